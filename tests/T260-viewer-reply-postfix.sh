#!/usr/bin/env bash
# T260-viewer-reply-postfix.sh - Reply, Reply all and Write from crmview, end
# to end: a private Postfix on loopback, crmilter with ReplyAddress, the
# store, crmview
#
# Jürgen (kunde.test) writes to Alice, Cc Bob and Petra, under a subject with
# non-ASCII letters, '&', '?', '%' and two reply prefixes, after a long
# References chain.  Alice opens the thread: the Reply and Reply all links are
# decoded field by field as a mail client would (tests/viewer/reply/mailto.py).
# Then replies composed from the link go out through the submission service:
# one as it stands, one whose client dropped In-Reply-To and References (and
# whose subject Alice changed), one with a tag made up, and one from outside
# that carries a real tag.  The first two land on Jürgen's thread; the made-up
# and the outside tag are ignored and logged; the reply address is never
# delivered and never stored as a participant.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "replies from crmview through Postfix"
command -v curl > /dev/null || { skip "replies from crmview through Postfix" "needs curl"; exit 0; }
MT=$CRM_TOP/tests/viewer/reply/mailto.py
RA=crm-reply@example.com

fault_setup InternalHosts 192.0.2.0/24 ReplyAddress "$RA" \
	ViewerSessionKeyFile "$TMP/store/session.key"
VIEW_PID=""
trap 'fault_stop; [ -n "$VIEW_PID" ] && kill "$VIEW_PID" 2> /dev/null; rm -rf "$TMP"' EXIT
stored_n() { [ "$(q "select count(*) from messages")" = "$1" ]; }
thread_of() { q "select thread_id from messages where msgid = '$1'"; }

SUBJ='Re: RE: Angebot für Q3 & «Preise»? 100% = ok'
REFS=$(for i in $(seq 1 12); do printf '<r%d@kunde.test> ' "$i"; done)
python3 - "$SMTP" "$SUBJ" "$REFS" > "$TMP/send.out" 2>&1 <<'PY'
import smtplib, sys
from email.message import EmailMessage
port, subject, refs = sys.argv[1:4]
m = EmailMessage()
m["From"] = "Jürgen Weiß <juergen@kunde.test>"
m["To"] = "alice@example.com"
m["Cc"] = "bob@example.com, Petra <petra@kunde.test>"
m["Subject"] = subject
m["Message-ID"] = "<k1@kunde.test>"
m["In-Reply-To"] = "<r12@kunde.test>"
m["References"] = refs.strip()
m["Date"] = "Mon, 03 Mar 2025 09:15:00 +0000"
m.set_content("Guten Tag,\nthe prices: a & b = c?\n> an old quote\nGrüße, Jürgen\n")
with smtplib.SMTP("127.0.0.1", int(port), timeout=60) as s:
    s.sendmail("juergen@kunde.test", ["alice@example.com", "bob@example.com", "petra@kunde.test"],
               m.as_bytes())
PY
check "crmilter stores Jürgen's message" wait_for 60 stored_n 1
K1=$(q "select id from messages where msgid = 'k1@kunde.test'")
T1=$(thread_of k1@kunde.test)

# ---- crmview, as Alice ----
ctl() { env -u SUDO_USER "$CRMCTL" -c "$CONF" "$@"; }
ctl user add alice@example.com > /dev/null 2>&1 && echo pw-alice-2025 |
	ctl user passwd alice@example.com > /dev/null 2>&1 || notok "Alice is a user"
chown -R "$CRM_USER" "$STORE_DIR"
"$CRM_BUILD/crmview" -c "$CONF" -l 127.0.0.1:0 > "$TMP/view.out" 2>&1 &
VIEW_PID=$!
wait_for 10 grep -q 'listening on' "$TMP/view.out"
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/view.out" | head -1)
curl -s -o /dev/null -c "$TMP/jar" --data-urlencode address=alice@example.com \
	--data-urlencode password=pw-alice-2025 "$URL/login"
curl -s -b "$TMP/jar" -o "$TMP/thread.html" "$URL/threads/$T1"
python3 "$MT" links "$TMP/thread.html" > "$TMP/links" 2> "$TMP/links.err"
check_equal "the message offers Reply and Reply all" "Reply|Reply all" \
	"$(python3 -c 'import json,sys; print("|".join(json.loads(l)["text"] for l in open(sys.argv[1])))' "$TMP/links")"
sed -n 1p "$TMP/links" > "$TMP/reply.json"
sed -n 2p "$TMP/links" > "$TMP/all.json"
# field FILE NAME - one decoded field of a link, lists joined by spaces
field() {
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1])).get(sys.argv[2], "")
print(" ".join(v) if isinstance(v, list) else v, end="")' "$1" "$2"
}
check_equal "Reply goes to Jürgen alone" "juergen@kunde.test" "$(field "$TMP/reply.json" to)"
check_equal "... with no Cc" "" "$(field "$TMP/reply.json" cc)"
check_equal "Reply all adds Bob and Petra, not Alice herself" \
	"juergen@kunde.test|bob@example.com petra@kunde.test" \
	"$(field "$TMP/all.json" to)|$(field "$TMP/all.json" cc)"
TAG=$(field "$TMP/reply.json" bcc)
check_grep "the Bcc is the reply address tagged with the message" \
	"^crm-reply+r$K1\.[0-9a-f]\{16\}@example\.com\$" <(echo "$TAG")
check_equal "Reply all carries the same tag" "$TAG" "$(field "$TMP/all.json" bcc)"
check_equal "the subject: non-ASCII, & ? % kept, one Re:" \
	"Re: Angebot für Q3 & «Preise»? 100% = ok" "$(field "$TMP/reply.json" subject)"
check_equal "In-Reply-To names the message" "<k1@kunde.test>" \
	"$(field "$TMP/reply.json" in-reply-to)"
check_equal "References: the nearest ten ancestors, then the message" \
	"$(for i in $(seq 3 12); do printf '<r%d@kunde.test> ' "$i"; done)<k1@kunde.test>" \
	"$(field "$TMP/reply.json" references)"
printf '\r\n\r\nOn 2025-03-03 09:15 UTC, Jürgen Weiß wrote:\r\n> Guten Tag,\r\n> the prices: a & b = c?\r\n>> an old quote\r\n> Grüße, Jürgen\r\n' \
	> "$TMP/body.want"
check_output "the body quotes the message, CRLF line ends" "$TMP/body.want" \
	field "$TMP/reply.json" body
check "the links are percent-encoded: no raw space, & inside a value, or non-ASCII" \
	python3 -c 'import json,sys,re
for l in open(sys.argv[1]):
    h = json.loads(l)["href"]
    assert re.fullmatch(r"mailto:[A-Za-z0-9%@.,_~-]*(\?[a-z-]+=[A-Za-z0-9%@.,_~-]*(&[a-z-]+=[A-Za-z0-9%@.,_~-]*)*)?", h), h' \
	"$TMP/links"

# ---- replies composed from the link, through the submission service ----
send_reply() { python3 "$MT" send "$SUB" alice@example.com "$@" >> "$TMP/send.out" 2>&1; }
send_reply a1@example.com "$TMP/reply.json"
send_reply a2@example.com "$TMP/all.json" --drop-refs --subject "Preisliste"
python3 - "$TMP/reply.json" "$TMP/forged.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = d["bcc"][0]
d["bcc"] = [b[:b.index("@") - 1] + ("0" if b[b.index("@") - 1] != "0" else "1") + b[b.index("@"):]]
json.dump(d, open(sys.argv[2], "w"))
PY
send_reply a3@example.com "$TMP/forged.json" --drop-refs --subject "Made up"
# Jürgen himself, from outside, with the real tag
python3 "$MT" send "$SMTP" juergen@kunde.test k2@kunde.test "$TMP/reply.json" --drop-refs \
	--subject "From outside" >> "$TMP/send.out" 2>&1
check "crmilter stores the four replies" wait_for 60 stored_n 5
sed 's/^/# /' "$TMP/send.out" | head -5
check_equal "the reply with its headers is on Jürgen's thread" "$T1" "$(thread_of a1@example.com)"
check_equal "the reply whose client dropped In-Reply-To and References is there too" "$T1" \
	"$(thread_of a2@example.com)"
check_equal "... filed as an answer to Jürgen's message" "k1@kunde.test|outbound" \
	"$(q "select in_reply_to, direction from messages where msgid = 'a2@example.com'")"
check_fails "a made-up tag puts nothing on the thread" test "$(thread_of a3@example.com)" = "$T1"
check_fails "a tag on mail from outside puts nothing on the thread" \
	test "$(thread_of k2@kunde.test)" = "$T1"
check_grep "crmilter says the made-up tag was ignored" \
	"a3@example.com.*reply tag not made by this store: ignored" "$LOG"
check_grep "crmilter says the outside tag was ignored" \
	"reply tag r$K1\..* on mail our side did not send: ignored" "$LOG"
check_equal "the reply address is no participant of any message" 0 \
	"$(q "select count(*) from participants where address like 'crm-reply%'")"
check_equal "the thread page shows no reply address" 0 \
	"$(curl -s -b "$TMP/jar" "$URL/threads/$T1" | grep -c 'crm-reply@\|crm-reply+r')"
pf_wait_empty "$PF" 60
check "the client got the replies" grep -rq "^Message-ID: <a2@example.com>" "$TMP/sink"
check_fails "Postfix delivered nothing to the reply address" \
	grep -rqi "crm-reply" "$TMP/sink"

# ---- Postfix's own transport entry (crmilter(8)) for what crmilter leaves ----
postconf -c "$PF/etc" -e "recipient_delimiter = +" \
	"transport_maps = inline:{ $RA=discard: }" > /dev/null
postfix -c "$PF/etc" reload > /dev/null 2>&1
sleep 1
# a note to the record alone: the tag is its only recipient
python3 - "$TMP/reply.json" "$TMP/note.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["to"], d["cc"] = [], []
json.dump(d, open(sys.argv[2], "w"))
PY
send_reply n1@example.com "$TMP/note.json" --drop-refs --subject "Note"
check "a message to the reply address alone is accepted and recorded" wait_for 60 stored_n 6
check_grep "... (the rules skip it: nobody from outside is on it)" \
	"n1@example.com> direction=internal skipped: internal only" "$LOG"
check_grep "... its only recipient left to Postfix" "the reply address is the only recipient" "$LOG"
pf_wait_empty "$PF" 60
check_fails "... which discards it" grep -rq "^Message-ID: <n1@example.com>" "$TMP/sink"

# ---- with crmilter down ----
crm_stop
send_reply a4@example.com "$TMP/reply.json" --subject "Milter down"
pf_wait_empty "$PF" 60
check "without crmilter the client still gets the reply" \
	grep -rq "^Message-ID: <a4@example.com>" "$TMP/sink"
check_fails "... and the documented transport entry discards the reply address" \
	grep -rqi "crm-reply" "$TMP/sink"
check_grep "Postfix's log shows the discard" "discard\[[0-9]*\]: [0-9A-F]*: to=<crm-reply+r$K1\.[0-9a-f]*@example.com>, relay=none.*status=sent" \
	"$PF/log/maillog"

# ---- Write from the records ----
J=$(q "select id from contacts where address = 'juergen@kunde.test'")
curl -s -b "$TMP/jar" -o "$TMP/contact.html" "$URL/contacts/$J"
python3 "$MT" links "$TMP/contact.html" > "$TMP/write" 2>> "$TMP/links.err"
check_equal "Jürgen's record offers Write to him" "Write|juergen@kunde.test" \
	"$(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["text"] + "|" + ",".join(d["to"]))' "$TMP/write")"
A=$(q "select account_id from contacts where address = 'juergen@kunde.test'")
curl -s -b "$TMP/jar" -o "$TMP/account.html" "$URL/accounts/$A"
python3 "$MT" links "$TMP/account.html" > "$TMP/write-a" 2>> "$TMP/links.err"
check_grep "the account offers Write to its contacts" '"to": \["juergen@kunde.test"' "$TMP/write-a"
sed 's/^/# /' "$TMP/links.err"
exit 0
