#!/usr/bin/env python3
# send.py - send numbered test messages over SMTP from several clients at once
#
# usage: send.py PORT COUNT PREFIX [--clients N] [--sizes SPEC] [--out FILE]
#                [--from ADDR] [--to ADDR] [--per-conn N] [--timeout S]
#
# Message i has Message-ID <PREFIX-i@test.example> and Subject "PREFIX i";
# its body size comes from SPEC, a list of SIZE:WEIGHT ("2k:90,20M:1"; k, M
# suffixes), picked with a fixed seed so runs repeat.  Each client sends its
# share over connections of --per-conn messages.  A message counts as sent
# when the server answers 250 to its DATA; a 4xx is retried (up to 20 times).
# Writes the Message-IDs sent (one a line) to --out; exits 1 when any
# message could not be sent.  Loopback only.
import argparse
import random
import smtplib
import sys
import threading
import time


def size_of(text):
    mult = {"k": 1024, "M": 1024 * 1024}
    return int(text[:-1]) * mult[text[-1]] if text[-1] in mult else int(text)


def make_message(prefix, i, size, sender, rcpt):
    head = (f"From: Test Sender <{sender}>\r\nTo: <{rcpt}>\r\n"
            f"Subject: {prefix} {i}\r\nMessage-ID: <{prefix}-{i}@test.example>\r\n"
            "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    line = f"{prefix} message {i} body text, line of filler for size. " * 1
    line = (line * 2)[:76] + "\r\n"
    reps = max(1, (size - len(head)) // len(line))
    return head + line * reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("prefix")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--sizes", default="2k:1")
    ap.add_argument("--out")
    ap.add_argument("--from", dest="sender", default="dave@acme.com")
    ap.add_argument("--to", dest="rcpt", default="alice@example.com")
    ap.add_argument("--per-conn", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()

    spec = [(size_of(s.split(":")[0]), float(s.split(":")[1])) for s in a.sizes.split(",")]
    rnd = random.Random(7)
    sizes = rnd.choices([s for s, _ in spec], weights=[w for _, w in spec], k=a.count)
    sent, failed, lock = [], [], threading.Lock()
    bodies = {}

    def body(size):  # one filler per size, then only the header changes
        if size not in bodies:
            bodies[size] = make_message("X", 0, size, a.sender, a.rcpt).split("\r\n\r\n", 1)[1]
        return bodies[size]

    def client(k):
        mine = list(range(k, a.count, a.clients))
        while mine:
            batch, mine = mine[:a.per_conn], mine[a.per_conn:]
            tries = 0
            while batch and tries < 20:
                try:
                    with smtplib.SMTP("127.0.0.1", a.port, timeout=a.timeout) as s:
                        s.ehlo("client.test.example")
                        while batch:
                            i = batch[0]
                            head = make_message(a.prefix, i, 0, a.sender, a.rcpt).split("\r\n\r\n", 1)[0]
                            s.sendmail(a.sender, [a.rcpt], head + "\r\n\r\n" + body(sizes[i]))
                            with lock:
                                sent.append(f"{a.prefix}-{i}@test.example")
                            batch.pop(0)
                except (smtplib.SMTPException, OSError) as e:
                    tries += 1
                    time.sleep(0.5)
                    if tries == 20:
                        with lock:
                            failed.extend(batch)
                        print(f"send.py: giving up on {len(batch)} messages: {e}", file=sys.stderr)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(a.clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if a.out:
        with open(a.out, "w") as f:
            f.write("".join(m + "\n" for m in sorted(sent)))
    print(f"send.py: {len(sent)} sent, {len(failed)} failed in {time.time() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
