#!/usr/bin/env python3
"""parts.py - the attachments of a message as Python's email module decodes them

usage: parts.py FILE.eml

Prints "sha256 size" of each leaf part that is not the message's text or
HTML body (the first inline, unnamed text/plain and text/html parts), in
MIME order: the list crmilter makes, computed independently of it.
"""
import email
import email.policy
import hashlib
import sys

msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
body_types = {"text/plain", "text/html"}
for part in msg.walk():
    if part.is_multipart():
        continue
    ctype = part.get_content_type()
    if (ctype in body_types and part.get_filename() is None and
            part.get_content_disposition() != "attachment"):
        body_types.discard(ctype)
        continue
    data = part.get_payload(decode=True)
    print(hashlib.sha256(data).hexdigest(), len(data))
