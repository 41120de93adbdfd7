#!/usr/bin/env python3
"""mkattach.py - write the attachment test messages of tests/T240-viewer-attachments.sh

usage: mkattach.py OUTDIR

  files.eml     a Globex thread (sales team; others see subjects): a text and
                HTML body whose HTML shows a signature image by Content-ID, then
                a PDF, a 40 KB PNG, an .exe, an HTML file with a script, a file
                with a hostile name (quotes, a backslash, CR LF, "../",
                non-ASCII; RFC 2231), a small SVG and a uuencoded text file
  initech-1.eml an Initech thread (participants; others see metadata) with a PDF
  initech-2.eml an Initech reply that puts ivan in To, with a PDF of its own
  hr.eml        an HR thread (participants only) with a PDF
  fake.eml      a workspace thread with HTML that calls itself image/png

The bytes are made here (a PNG is drawn with zlib); the test reads them back
from the .eml files with Python's email module, not from this script.
"""
import base64
import os
import random
import struct
import sys
import zlib


def png(width, height, seed):
    """a valid PNG of random pixels (it does not compress: its size is about w*h*3)"""
    rnd = random.Random(seed)
    rows = b"".join(b"\0" + bytes(rnd.getrandbits(8) for _ in range(width * 3))
                    for _ in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def b64(data):
    return base64.encodebytes(data).decode()


def uuencode(data, name):
    out = ["begin 644 %s" % name]
    for i in range(0, len(data), 45):
        chunk = data[i:i + 45]
        line = chr(32 + len(chunk))
        for j in range(0, len(chunk), 3):
            t = chunk[j:j + 3] + b"\0" * (3 - len(chunk[j:j + 3]))
            n = t[0] << 16 | t[1] << 8 | t[2]
            line += "".join(chr(32 + ((n >> s) & 63) or 96) for s in (18, 12, 6, 0))
        out.append(line.replace(" ", "`"))
    out += ["`", "end", ""]
    return "\n".join(out)


PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(range(256)) * 8
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert("svg")</script><rect width="10" height="10"/></svg>\n')
HTML = ("<html><body><h1>Invoice</h1><script>alert('attachment')</script>"
        "<p>Total: 1.200 =E2=82=AC</p></body></html>\n")
NOTES = b"Notes from the call.\nDelivery in March.\n" * 5


def files_eml():
    sig = png(12, 8, 1)
    chart = png(120, 90, 2)
    return """From: Nigel Barnes <nigel@globex.co.uk>
To: Bob Lindqvist <bob@example.com>
Subject: Globex quote and files
Date: Mon, 10 Mar 2025 10:00:00 +0000
Message-ID: <att-files@globex.co.uk>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="MIXED"

--MIXED
Content-Type: multipart/related; boundary="REL"

--REL
Content-Type: multipart/alternative; boundary="ALT"

--ALT
Content-Type: text/plain; charset=utf-8

Bob, the quote and the files are attached. TOKEN-T240-FILES

Nigel
--ALT
Content-Type: text/html; charset=utf-8

<p>Bob, the quote and the files are attached.</p><p>Nigel<br><img src="cid:sig1@globex.co.uk"></p>
--ALT--
--REL
Content-Type: image/png; name="image001.png"
Content-Disposition: inline; filename="image001.png"
Content-ID: <sig1@globex.co.uk>
Content-Transfer-Encoding: base64

%s--REL--
--MIXED
Content-Type: application/pdf; name="Quote 2025.pdf"
Content-Disposition: attachment; filename="Quote 2025.pdf"
Content-Transfer-Encoding: base64

%s--MIXED
Content-Type: image/png; name="chart.png"
Content-Disposition: attachment; filename="chart.png"
Content-Transfer-Encoding: base64

%s--MIXED
Content-Type: application/x-msdownload; name="setup.exe"
Content-Disposition: attachment; filename="setup.exe"
Content-Transfer-Encoding: base64

%s--MIXED
Content-Type: text/html; charset=utf-8; name="invoice.html"
Content-Disposition: attachment; filename="invoice.html"
Content-Transfer-Encoding: quoted-printable

%s--MIXED
Content-Type: text/plain; charset=utf-8
Content-Disposition: attachment;
 filename*=UTF-8''%%22..%%2F..%%2Fevil%%5C%%22%%0D%%0AX-Injected%%3A%%201%%20r%%C3%%A9sum%%C3%%A9.txt
Content-Transfer-Encoding: base64

%s--MIXED
Content-Type: image/svg+xml; name="logo.svg"
Content-Disposition: attachment; filename="logo.svg"
Content-Transfer-Encoding: base64

%s--MIXED
Content-Type: text/plain; charset=us-ascii; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"
Content-Transfer-Encoding: x-uuencode

%s
--MIXED--
""" % (b64(sig), b64(PDF), b64(chart), b64(EXE), HTML, b64(b"hostile name\n"), b64(SVG),
       uuencode(NOTES, "notes.txt"))


def one_pdf(frm, to, subject, msgid, name, extra=""):
    return """From: %s
To: %s
Subject: %s
Date: Tue, 11 Mar 2025 %s +0000
Message-ID: <%s>
%sMIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B"

--B
Content-Type: text/plain; charset=utf-8

See the attached file.
--B
Content-Type: application/pdf; name="%s"
Content-Disposition: attachment; filename="%s"
Content-Transfer-Encoding: base64

%s--B--
""" % (frm, to, subject, "09:00:00" if not extra else "10:00:00", msgid, extra, name, name,
       b64(PDF.replace(b"1.4", msgid[:3].encode())))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    msgs = {
        "files.eml": files_eml(),
        "initech-1.eml": one_pdf("Hans Weber <hans@initech.de>", "Bob <bob@example.com>",
                                 "Initech report", "att-initech-1@initech.de", "report.pdf"),
        "initech-2.eml": one_pdf("Hans Weber <hans@initech.de>",
                                 "Bob <bob@example.com>, Ivan Petrov <ivan@example.com>",
                                 "Re: Initech report", "att-initech-2@initech.de", "reply.pdf",
                                 "In-Reply-To: <att-initech-1@initech.de>\n"
                                 "References: <att-initech-1@initech.de>\n"),
        "hr.eml": one_pdf("Paula Brandt <paula@payroll-partner.de>",
                          "HR <hr@example.com>, Carol Diaz <carol@example.com>",
                          "Salary bands file", "att-hr@payroll-partner.de", "bands.pdf"),
    }
    msgs["fake.eml"] = one_pdf("Dave Miller <dave@acme.com>", "Bob <bob@example.com>",
                               "Screenshot", "att-fake@acme.com", "shot.png").replace(
        "application/pdf", "image/png").replace(
        b64(PDF.replace(b"1.4", b"att")), b64(b"<html><script>alert('png')</script></html>\n"))
    for name, text in msgs.items():
        with open(os.path.join(out, name), "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
