#!/usr/bin/env bash
# T215-viewer-outsiders-postfix.sh - no header an outsider writes widens who
# sees a private or team-only thread, end to end: a private Postfix on
# loopback, crmilter, the store, crmview
#
# Paula (payroll-partner.de) writes to hr@ (private by the rule "hr"); Carol
# answers through the submission service (outbound).  Paula then replies into
# the thread four times, naming colleagues: Gina only in Sender, Henry only in
# Reply-To, Ivan only in the envelope (RCPT TO, no header), Judy in Cc (and
# the envelope).  Nigel (globex.co.uk) does the same to a thread of the sales
# team (outsiders see nothing): Frank in Reply-To, Judy only in the envelope.
# Each colleague may see exactly the messages delivered to him, and nothing
# earlier; checked through crmview's API as each of them.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "outsiders through Postfix, crmilter and crmview"
command -v curl > /dev/null || { skip "outsiders through Postfix" "needs curl"; # a rule's file and the @/file lists in its text, by name only
curl -s -b "$TMP/jar.ivan" "$URL/api/threads/$HR" > "$TMP/ivan-hr.json"
check_fails "Ivan's view of the thread names no server path" grep -q "$TMP" "$TMP/ivan-hr.json"
check_grep "the capture rule's list file is shown by its name" '"text": *"always @always.txt"' \
	"$TMP/ivan-hr.json"
exit 0; }

echo paula@payroll-partner.de > "$TMP/always.txt"
cat > "$TMP/rules" <<EOF
team sales = alice@example.com bob@example.com
team hr = carol@example.com
[capture]
always @$TMP/always.txt
[visibility]
private "hr" if participant hr@example.com
team sales if participant globex.co.uk
workspace
EOF
chmod 644 "$TMP/rules" "$TMP/always.txt"
fault_setup InternalHosts 192.0.2.0/24 RulesFile "$TMP/rules" \
	ViewerSessionKeyFile "$TMP/store/session.key"
VIEW_PID=""
trap 'fault_stop; [ -n "$VIEW_PID" ] && kill "$VIEW_PID" 2> /dev/null; rm -rf "$TMP"' EXIT

# mail PORT FROM RCPTS HEADERS BODY - one message over SMTP; HEADERS are
# lines "Name: value" separated by '|'; RCPTS by spaces
mail() {
	python3 - "$@" >> "$TMP/send.out" 2>&1 <<'PY'
import smtplib, sys
port, frm, rcpts, headers, body = sys.argv[1:6]
msg = "".join(h + "\r\n" for h in headers.split("|")) + \
      "Date: Mon, 03 Mar 2025 09:15:00 +0100\r\nMIME-Version: 1.0\r\n" \
      "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
with smtplib.SMTP("127.0.0.1", int(port), timeout=60) as s:
    s.sendmail(frm, rcpts.split(), msg.encode())
PY
}
stored_n() { [ "$(q "select count(*) from messages")" = "$1" ]; }

P="From: Paula Brandt <paula@payroll-partner.de>"
R="Subject: Re: Salary review"
mail "$SMTP" paula@payroll-partner.de "hr@example.com carol@example.com" \
	"$P|To: hr@example.com|Cc: carol@example.com|Subject: Salary review|Message-ID: <pf-hr-1@payroll-partner.de>" \
	"The bands: SECRET-PF-HR-1"
mail "$SUB" carol@example.com "paula@payroll-partner.de hr@example.com" \
	"From: carol@example.com|To: paula@payroll-partner.de|Cc: hr@example.com|$R|Message-ID: <pf-hr-2@example.com>|In-Reply-To: <pf-hr-1@payroll-partner.de>" \
	"Thanks: SECRET-PF-HR-2"
mail "$SMTP" paula@payroll-partner.de hr@example.com \
	"$P|Sender: gina@example.com|To: hr@example.com|$R|Message-ID: <pf-hr-3@payroll-partner.de>|In-Reply-To: <pf-hr-2@example.com>" \
	"Sender only: TOKEN-PF-SENDER"
mail "$SMTP" paula@payroll-partner.de hr@example.com \
	"$P|Reply-To: henry@example.com|To: hr@example.com|$R|Message-ID: <pf-hr-4@payroll-partner.de>|In-Reply-To: <pf-hr-3@payroll-partner.de>" \
	"Reply-To only: TOKEN-PF-REPLYTO"
mail "$SMTP" paula@payroll-partner.de "hr@example.com ivan@example.com" \
	"$P|To: hr@example.com|$R|Message-ID: <pf-hr-5@payroll-partner.de>|In-Reply-To: <pf-hr-4@payroll-partner.de>" \
	"Envelope only: TOKEN-PF-ENVELOPE"
mail "$SMTP" paula@payroll-partner.de "hr@example.com judy@example.com" \
	"$P|To: hr@example.com|Cc: judy@example.com|$R|Message-ID: <pf-hr-6@payroll-partner.de>|In-Reply-To: <pf-hr-5@payroll-partner.de>" \
	"Cc: TOKEN-PF-CC"
mail "$SUB" bob@example.com nigel@globex.co.uk \
	"From: bob@example.com|To: nigel@globex.co.uk|Subject: Migration|Message-ID: <pf-gx-1@example.com>" \
	"Team only: SECRET-PF-GX-1"
mail "$SMTP" nigel@globex.co.uk "bob@example.com judy@example.com" \
	"From: nigel@globex.co.uk|Reply-To: frank@example.com|To: bob@example.com|Subject: Re: Migration|Message-ID: <pf-gx-2@globex.co.uk>|In-Reply-To: <pf-gx-1@example.com>" \
	"Envelope only: TOKEN-PF-GX-2"
check "crmilter stores the 8 messages" wait_for 60 stored_n 8
HR=$(q "select thread_id from messages where msgid = 'pf-hr-1@payroll-partner.de'")
GX=$(q "select thread_id from messages where msgid = 'pf-gx-1@example.com'")
check_equal "the HR thread holds its 6 messages and is private" "6|participants|nothing" \
	"$(q "select messages, visibility, outside from threads where id = $HR")"
check_equal "the Globex thread holds its 2 messages and is the sales team's" "2|team:sales|nothing" \
	"$(q "select messages, visibility, outside from threads where id = $GX")"
check_equal "Ivan is in the envelope of the envelope-only reply, in no header" "envelope-rcpt" \
	"$(q "select group_concat(role) from participants p join messages m on m.id = p.message_id
	      where m.msgid = 'pf-hr-5@payroll-partner.de' and p.address = 'ivan@example.com'")"

# ---- crmview, as each colleague ----
ctl() { env -u SUDO_USER "$CRMCTL" -c "$CONF" "$@"; }
for u in alice carol frank gina henry ivan judy; do
	ctl user add "$u@example.com" > /dev/null 2>&1 && echo "pw-$u-2025" | ctl user passwd "$u@example.com" > /dev/null 2>&1 ||
		notok "user $u is made"
done
chown -R "$CRM_USER" "$STORE_DIR"
"$CRM_BUILD/crmview" -c "$CONF" -l 127.0.0.1:0 > "$TMP/view.out" 2>&1 &
VIEW_PID=$!
wait_for 10 grep -q 'listening on' "$TMP/view.out"
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/view.out" | head -1)
check "crmview serves the live store" test -n "$URL"

# seen USER THREAD - the Message-IDs USER sees of THREAD, by the API, and its count
seen() {
	local jar=$TMP/jar.$1
	[ -f "$jar" ] || curl -s -o /dev/null -c "$jar" --data-urlencode "address=$1@example.com" \
		--data-urlencode "password=pw-$1-2025" "$URL/login"
	curl -s -b "$jar" "$URL/api/threads/$2?limit=100" | python3 -c '
import json, sqlite3, sys
try:
    t = json.load(sys.stdin)
except ValueError:
    t = {}
if "items" not in t:
    print("hidden"); sys.exit(0)
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
ids = [db.execute("select msgid from messages where id = ?", (m["id"],)).fetchone()[0].split("@")[0]
       for m in t["items"]]
print("%d:%s" % (t["messages"], " ".join(ids)))' "$DB"
}
# body_has USER TOKEN - some page or API answer USER can reach shows TOKEN
body_has() {
	local jar=$TMP/jar.$1 p
	for p in "api/threads/$HR?limit=100" "api/threads/$GX?limit=100" "api/search?q=$2" \
		"api/accounts/$(q "select id from accounts where domain = 'payroll-partner.de'")"; do
		# (a search answer echoes its query: drop that)
		curl -s -b "$jar" "$URL/$p" | sed 's/"query": *"[^"]*"//' | grep -q "$2" && return 0
	done
	return 1
}

check_equal "Carol (HR, named on the first two) sees those two" "2:pf-hr-1 pf-hr-2" "$(seen carol "$HR")"
check_equal "Gina, only in Sender, sees nothing of the HR thread" hidden "$(seen gina "$HR")"
check_equal "Henry, only in Reply-To, sees nothing of the HR thread" hidden "$(seen henry "$HR")"
check_equal "Ivan, only in the envelope, sees the reply delivered to him and nothing earlier" \
	"1:pf-hr-5" "$(seen ivan "$HR")"
check_equal "Judy, in Cc, sees the reply delivered to her and nothing earlier" \
	"1:pf-hr-6" "$(seen judy "$HR")"
check_equal "Alice sees nothing of the HR thread" hidden "$(seen alice "$HR")"
check_fails "Ivan's pages hold nothing of the first HR message" body_has ivan SECRET-PF-HR-1
check_fails "Judy's pages hold nothing of Carol's HR reply" body_has judy SECRET-PF-HR-2
check "Ivan reads the body of his reply" body_has ivan TOKEN-PF-ENVELOPE
check_fails "Gina's pages hold nothing of the reply naming her in Sender" body_has gina TOKEN-PF-SENDER
check_fails "Henry's pages hold nothing of the reply naming him in Reply-To" body_has henry TOKEN-PF-REPLYTO
check_equal "Alice (sales) sees the whole team thread" "2:pf-gx-1 pf-gx-2" "$(seen alice "$GX")"
check_equal "Frank, only in Reply-To of the outsider's reply, sees nothing of the team thread" \
	hidden "$(seen frank "$GX")"
check_equal "Judy, only in its envelope, sees that reply and nothing earlier" "1:pf-gx-2" \
	"$(seen judy "$GX")"
check_fails "Judy's pages hold nothing of Bob's team message" body_has judy SECRET-PF-GX-1
# a rule's file and the @/file lists in its text, by name only
curl -s -b "$TMP/jar.ivan" "$URL/api/threads/$HR" > "$TMP/ivan-hr.json"
check_fails "Ivan's view of the thread names no server path" grep -q "$TMP" "$TMP/ivan-hr.json"
check_grep "the capture rule's list file is shown by its name" '"text": *"always @always.txt"' \
	"$TMP/ivan-hr.json"
exit 0
