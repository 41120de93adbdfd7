#!/usr/bin/env python3
"""mailto.py - the mailto: links of a crmview page, decoded as a mail client
would (RFC 6068), and a message composed from one and sent over SMTP.

  mailto.py links PAGE.html          every a.mailto as JSON lines:
                                     {"text", "to", "cc", "bcc", "subject",
                                      "in-reply-to", "references", "body", "href"}
  mailto.py send PORT FROM MSGID LINK.json [--drop-refs] [--subject S]
                                     send the message the link composes from
                                     FROM with Message-ID MSGID: To and Cc as
                                     headers, Bcc only in the envelope (as
                                     clients do); --drop-refs leaves out
                                     In-Reply-To and References (clients that
                                     drop them from links)
"""
import html.parser
import json
import smtplib
import sys
import urllib.parse
from email.message import EmailMessage


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.cur = [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "mailto" in (a.get("class") or "").split():
            self.cur = {"href": a.get("href", ""), "text": ""}

    def handle_data(self, data):
        if self.cur is not None:
            self.cur["text"] += data

    def handle_endtag(self, tag):
        if tag == "a" and self.cur is not None:
            self.links.append(self.cur)
            self.cur = None


def decode(href):
    """the fields of a mailto: URI, each percent-decoded as UTF-8"""
    assert href.startswith("mailto:"), href
    rest = href[len("mailto:"):]
    path, _, query = rest.partition("?")
    out = {"to": [urllib.parse.unquote(a) for a in path.split(",") if a]}
    for pair in query.split("&") if query else []:
        k, _, v = pair.partition("=")
        v = urllib.parse.unquote(v, errors="strict")
        k = k.lower()
        if k in ("cc", "bcc", "to"):
            out.setdefault(k, []).extend(a for a in v.split(",") if a)
        else:
            assert k not in out, "field %s given twice" % k
            out[k] = v
    return out


def main():
    if sys.argv[1] == "links":
        p = Links()
        with open(sys.argv[2], encoding="utf-8") as f:
            p.feed(f.read())
        for link in p.links:
            link.update(decode(link["href"]))
            print(json.dumps(link, ensure_ascii=False, sort_keys=True))
        return
    port, frm, msgid, link = sys.argv[2:6]
    opts = sys.argv[6:]
    with open(link, encoding="utf-8") as f:
        d = json.load(f)
    m = EmailMessage()
    m["From"] = frm
    m["To"] = ", ".join(d["to"]) or "undisclosed-recipients:;"
    if d.get("cc"):
        m["Cc"] = ", ".join(d["cc"])
    m["Subject"] = opts[opts.index("--subject") + 1] if "--subject" in opts else d["subject"]
    m["Message-ID"] = "<%s>" % msgid
    m["Date"] = "Tue, 04 Mar 2025 10:00:00 +0000"
    if "--drop-refs" not in opts:
        m["In-Reply-To"] = d["in-reply-to"]
        m["References"] = d["references"]
    m.set_content("Our answer, written from the record.\n" + d.get("body", ""))
    rcpts = d["to"] + d.get("cc", []) + d.get("bcc", [])
    with smtplib.SMTP("127.0.0.1", int(port), timeout=60) as s:
        s.sendmail(frm, rcpts, m.as_bytes())


if __name__ == "__main__":
    main()
