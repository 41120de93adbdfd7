#!/usr/bin/env bash
# T024-mime-decoding.sh - real-world MIME read as a person would read it
#
# Each fixture reproduces a misreading of earlier versions:
#   - two adjacent base64 encoded words of one charset, the first padded
#     (GMime 3.2.13 dropped everything after the first word);
#   - a UTF-8 part with one invalid byte (was read whole as windows-1252);
#   - the charset alias "eucgb2312_cn", in the body and in an encoded word;
#   - raw UTF-8 in the Subject of a message whose body is GB2312 (the
#     bytes of "项目进度" read as GBK too);
#   - part headers followed directly by base64 data, in one long line and
#     in 76-character lines (the part was listed empty);
#   - a uuencoded attachment whose lines lost their trailing spaces;
#   - a quoted-printable "=0D" before the line break;
#   - a message whose only content is a forwarded message (its text was
#     the forwarded message's raw MIME source), and a digest.
# The same messages imported with LF, CRLF and CR-only line ends give the
# same records.
. "$(dirname "$0")/test-lib.sh"

mkdir -p "$TMP/lf" "$TMP/crlf" "$TMP/cr"
python3 - "$TMP" <<'PY'
import base64, binascii, hashlib, os, sys

out = sys.argv[1]
random = bytes((i * 7919 + 13) % 251 for i in range(3000))
uu_data = bytes(range(256)) * 4 + b"\0" * 200 + b"tail"
russian = ("Привет, это длинный русский текст о поставке. " * 200).encode()

def head(mid, subject, extra=b""):
    return (b"From: Ann Seller <ann@example.com>\nTo: Carl Client <carl@client.example>\n"
            b"Subject: " + subject + b"\nMessage-ID: <" + mid + b"@example.com>\n"
            b"Date: Tue, 06 May 2025 09:00:00 +0000\nMIME-Version: 1.0\n" + extra)

def b64(s):
    return base64.b64encode(s.encode()).decode()

msgs = {}
words = "=?UTF-8?B?%s?= =?UTF-8?B?%s?=" % (b64("Hello"), b64(" world.pdf"))
msgs["words"] = head(b"words", words.encode(),
    b"Content-Type: multipart/mixed; boundary=\"B\"\n") + (
    "\n--B\nContent-Type: text/plain\n\nSee attached.\n--B\n"
    "Content-Type: application/pdf; name=\"%s\"\nContent-Transfer-Encoding: base64\n\n"
    "SGVsbG8K\n--B--\n" % words).encode()
msgs["badbyte"] = head(b"badbyte", b"Russian",
    b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n") + \
    b"\n" + russian[:4000] + b"\xff" + russian[4000:] + b"\n"
gbname = base64.b64encode("张伟".encode("gb2312")).decode()
msgs["gbalias"] = (b"From: =?eucgb2312_cn?B?" + gbname.encode() + b"?= <zw@client.example>\n"
    b"To: ann@example.com\nSubject: " + "会议记录".encode() + b"\n"
    b"Message-ID: <gbalias@client.example>\nDate: Tue, 06 May 2025 09:00:00 +0000\n"
    b"MIME-Version: 1.0\nContent-Type: text/plain; charset=eucgb2312_cn\n"
    b"Content-Transfer-Encoding: 8bit\n\n" + "你好，这是中文邮件。".encode("gb2312") + b"\n")
msgs["gbraw"] = (b"From: zw@client.example\nTo: ann@example.com\nSubject: " + "项目进度".encode() +
    b"\nMessage-ID: <gbraw@client.example>\nDate: Tue, 06 May 2025 09:00:00 +0000\n"
    b"MIME-Version: 1.0\nContent-Type: text/plain; charset=gb2312\n"
    b"Content-Transfer-Encoding: 8bit\n\n" + "你好。".encode("gb2312") + b"\n")
enc = base64.b64encode(random).decode()
for name, data in (("nblong", enc), ("nbshort", "\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)))):
    msgs[name] = head(name.encode(), b"Logs",
        b"Content-Type: multipart/mixed; boundary=\"B\"\n") + (
        "\n--B\nContent-Type: text/plain\n\nSee attached.\n--B\n"
        "Content-Type: application/octet-stream; name=\"data.bin\"\n"
        "Content-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=\"data.bin\"\n%s\n--B--\n" % data).encode()
lines = [binascii.b2a_uu(uu_data[i:i + 45], backtick=False).decode().rstrip("\n").rstrip(" ")
         for i in range(0, len(uu_data), 45)]
msgs["uuqp"] = head(b"uuqp", b"Data", b"Content-Type: multipart/mixed; boundary=\"B\"\n") + (
    "\n--B\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\n"
    "line one=0D\nline two\n--B\nContent-Type: application/octet-stream; name=\"data.bin\"\n"
    "Content-Transfer-Encoding: x-uuencode\n\nbegin 644 data.bin\n%s\n`\nend\n--B--\n" % "\n".join(lines)).encode()
msgs["fwd"] = head(b"fwd", b"Fwd: Quote for Q3", b"Content-Type: multipart/mixed; boundary=\"B\"\n") + (
    b"\n--B\nContent-Type: message/rfc822\n\nFrom: Carl Client <carl@client.example>\n"
    b"To: ann@example.com\nSubject: Quote for Q3\nDate: Mon, 05 May 2025 15:00:00 +0000\n"
    b"Message-ID: <q3@client.example>\nMIME-Version: 1.0\n"
    b"Content-Type: multipart/alternative; boundary=\"C\"\n\n--C\n"
    b"Content-Type: text/plain; charset=utf-8\n\nPlease send the quote for Q3.\n--C\n"
    b"Content-Type: text/html\n\n<p>Please send the quote for Q3.</p>\n--C--\n--B--\n")
msgs["digest"] = head(b"digest", b"Digest", b"Content-Type: multipart/digest; boundary=\"D\"\n") + (
    b"\nPreamble to ignore.\n--D\n\nFrom: Dora <dora@client.example>\nSubject: First\n\nFirst post.\n"
    b"--D\n\nFrom: Emil <emil@client.example>\nSubject: Second\n\nSecond post.\n--D--\n")
for name, m in msgs.items():
    for form, eol in (("lf", b"\n"), ("crlf", b"\r\n"), ("cr", b"\r")):
        open(os.path.join(out, form, name + ".eml"), "wb").write(m.replace(b"\n", eol))
with open(os.path.join(out, "expected"), "w") as f:
    f.write("%s %d\n" % (hashlib.sha256(random).hexdigest(), len(random)))
    f.write("%s %d\n" % (hashlib.sha256(uu_data).hexdigest(), len(uu_data)))
PY

for form in lf crlf cr; do
	write_conf "$TMP/$form.conf"
	sed -i "s|$TMP/store.db|$TMP/$form.db|" "$TMP/$form.conf"
	"$CRMCTL" -c "$TMP/$form.conf" import "$TMP/$form" > "$TMP/$form.out" 2>&1
	"$CRMCTL" -c "$TMP/$form.conf" export --format jsonl > "$TMP/$form.jsonl" 2> /dev/null
done
check_grep "the LF copies import" "imported 9, duplicates 0, failed 0" "$TMP/lf.out"

# field ID KEY - one field of the LF record of message ID, as text
field() {
	python3 - "$TMP/lf.jsonl" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "message" and r["message_id"].startswith(sys.argv[2] + "@"):
        key = sys.argv[3]
        if key == "from-name":
            print([p["name"] for p in r["participants"] if p["role"] == "from"][0])
        elif key == "attachments":
            for a in r["attachments"]:
                print(a["filename"], a["size"], a["sha256"])
        elif key == "fffd":
            print(r["body"].count("\ufffd"), r["body"].count("Привет"))
        else:
            print(r[key])
PY
}

check_equal "adjacent padded encoded words: the whole subject" \
	"Hello world.pdf" "$(field words subject)"
check_equal "adjacent padded encoded words: the whole file name" \
	"Hello world.pdf 6 66a045b452102c59d840ec097d59d9467e13a3f34f6494e539ffd32c1bb35f18" \
	"$(field words attachments)"
check_equal "one bad byte in UTF-8: one U+FFFD, all 200 Russian sentences kept" \
	"1 200" "$(field badbyte fffd)"
check_grep "the bad byte is named in the warnings" \
	'1 byte not valid UTF-8 in a text part' "$TMP/lf.jsonl"
check_equal "charset alias eucgb2312_cn in the body" \
	"你好，这是中文邮件。" "$(field gbalias body)"
check_equal "charset alias eucgb2312_cn in an encoded word" \
	"张伟" "$(field gbalias from-name)"
check_equal "raw UTF-8 subject of a GB2312 message stays UTF-8" \
	"项目进度" "$(field gbraw subject)"
read -r sum len < "$TMP/expected"
check_equal "part headers then one long base64 line: the part's bytes" \
	"data.bin $len $sum" "$(field nblong attachments)"
check_equal "part headers then base64 lines: the part's bytes" \
	"data.bin $len $sum" "$(field nbshort attachments)"
read -r sum len < <(sed -n 2p "$TMP/expected")
check_equal "uuencoded lines without their trailing spaces: the file's bytes" \
	"data.bin $len $sum" "$(field uuqp attachments)"
check_equal "quoted-printable =0D before a break: one break" \
	"line one
line two" "$(field uuqp body)"
body=$(field fwd body)
case $body in
*"Please send the quote for Q3."*Content-Type*|*Content-Type*) notok "a forward-only message shows the forwarded text"; echo "# $body" ;;
*"From: Carl Client <carl@client.example>"*"Please send the quote for Q3.") ok "a forward-only message shows the forwarded text" ;;
*) notok "a forward-only message shows the forwarded text"; echo "# $body" ;;
esac

body=$(field digest body)
case $body in
*"From: Dora <dora@client.example>"*"First post."*"From: Emil <emil@client.example>"*"Second post.") ok "a digest shows each of its messages" ;;
*) notok "a digest shows each of its messages"; echo "# $body" ;;
esac

# records: LF, CRLF and CR-only copies alike (the raw size aside)
for form in lf crlf cr; do
	python3 - "$TMP/$form.jsonl" > "$TMP/$form.records" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "message":
        for k in ("size", "raw", "sources", "id", "thread"):
            r.pop(k, None)
        print(json.dumps(r, sort_keys=True, ensure_ascii=False))
PY
done
check "CRLF copies give the LF records" diff "$TMP/lf.records" "$TMP/crlf.records"
check "CR-only copies give the LF records" diff "$TMP/lf.records" "$TMP/cr.records"
check_equal "all nine records compared" "9" "$(wc -l < "$TMP/lf.records")"
exit 0
