#!/usr/bin/env python3
# forge.py - speak the milter protocol to crmilter as an MTA would, from any
# address: what a stranger who reaches the milter port could do
#
# usage: forge.py unix:PATH|inet:PORT@HOST MSGID [--source ADDR] [--auth USER]
#                 [--daemon-name NAME]
# Sends one message (From ceo@example.com to dave@acme.com, with
# {auth_authen} = USER, "" for none, so that it looks sent by us; and
# {daemon_name} = NAME, default smtpd) and prints what became
# of it: "accepted" when crmilter answered the end of message, "refused:
# REASON" when the connection was closed or refused.  Exit 0 either way;
# 2 on usage errors.
import argparse
import socket
import struct
import sys

SMFI_VERSION = 6
ALL_ACTIONS = 0x1FF
ALL_STEPS = 0x1FFFFF
NO = {"C": 0x1, "H": 0x2, "M": 0x4, "R": 0x8, "B": 0x10, "L": 0x20, "N": 0x40}
NR = {"C": 0x1000, "H": 0x2000, "M": 0x4000, "R": 0x8000, "L": 0x80, "N": 0x40000, "B": 0x80000}


def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd.encode() + data


def recv_packet(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            raise EOFError("connection closed")
        head += chunk
    n = struct.unpack(">I", head)[0]
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            raise EOFError("connection closed")
        body += chunk
    return body[:1].decode(), body[1:]


def z(*parts):
    return b"".join(p.encode() + b"\0" for p in parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("msgid")
    ap.add_argument("--source")
    ap.add_argument("--auth", default="ceo@example.com")
    ap.add_argument("--daemon-name", default="smtpd")
    a = ap.parse_args()
    try:
        if a.socket.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10)
            s.connect(a.socket[5:])
        else:
            port, host = a.socket.split(":", 1)[1].split("@")
            s = socket.socket(socket.AF_INET)
            s.settimeout(10)
            if a.source:
                s.bind((a.source, 0))
            s.connect((host, int(port)))
    except OSError as e:
        print("refused: " + str(e))
        return 0
    try:
        s.sendall(packet("O", struct.pack(">III", SMFI_VERSION, ALL_ACTIONS, ALL_STEPS)))
        _, neg = recv_packet(s)
        steps = struct.unpack(">III", neg[:12])[2]

        def step(cmd, data=b""):
            if steps & NO.get(cmd, 0):
                return
            s.sendall(packet(cmd, data))
            if not steps & NR.get(cmd, 0):
                recv_packet(s)

        s.sendall(packet("D", b"C" + z("j", "mx.example.com", "{daemon_name}", a.daemon_name)))
        step("C", z("client.example") + b"4" + struct.pack(">H", 25) + z("192.0.2.9"))
        step("H", z("client.example"))
        macros = ("{auth_authen}", a.auth, "i", "FORGED1") if a.auth else ("i", "FORGED1")
        s.sendall(packet("D", b"M" + z(*macros)))
        step("M", z("<ceo@example.com>"))
        step("R", z("<dave@acme.com>"))
        for name, value in (("From", "ceo@example.com"), ("To", "dave@acme.com"),
                            ("Subject", "We agree to waive all fees"),
                            ("Message-ID", "<%s>" % a.msgid),
                            ("Date", "Tue, 06 May 2025 09:00:00 +0000")):
            step("L", z(name, value))
        step("N")
        step("B", b"Dave, we agree to waive all fees for 2025.\r\n")
        s.sendall(packet("D", b"E" + z("i", "FORGED1")))
        s.sendall(packet("E"))
        cmd, _ = recv_packet(s)
        print("accepted" if cmd in ("a", "c") else "answered " + cmd)
        s.sendall(packet("Q"))
    except (OSError, EOFError) as e:
        print("refused: " + str(e))
    finally:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
