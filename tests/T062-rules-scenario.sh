#!/usr/bin/env bash
# T062-rules-scenario.sh - a day of Example Ltd's mail (tests/corpora/scenario:
# a deal negotiation with tags, a client writing from two domains, a
# newsletter, a receipt, the dentist, an HR thread, a spoofed client message,
# an auto-reply, a bounce, a team lead, a private dinner, a deal by header)
# under tests/corpora/scenario/rules: contacts, accounts, deals, links,
# visibility and unassigned reasons come out exactly as
# tests/expected/T062-scenario.txt, through crmctl import and through crmilter
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/rules/dump-store.sh"
SCEN=$CORPORA/scenario

if ! command -v sqlite3 > /dev/null; then
	skip "the scenario" "needs sqlite3"
	exit 0
fi
cp "$SCEN/rules" "$TMP/rules"
write_conf "$TMP/c.conf" RulesFile "$TMP/rules"
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }

check_equal "the deals are imported" "imported 5 deals" "$(crm deals import "$SCEN/deals.csv")"
check_equal "the day's 16 messages are imported" "imported 16, duplicates 0, failed 0" \
	"$(crm import "$SCEN/mail")"
dump_store "$TMP/store.db" "$TMP/" > "$TMP/import.txt"
check "through crmctl import: every decision as expected" diff -u "$EXPECTED/T062-scenario.txt" "$TMP/import.txt"
[ -s "$TMP/import.txt" ] && ! diff -q "$EXPECTED/T062-scenario.txt" "$TMP/import.txt" > /dev/null &&
	diff -u "$EXPECTED/T062-scenario.txt" "$TMP/import.txt" | head -40 | sed 's/^/# /'
check_equal "the store keeps nothing of a skipped message but its metadata row" "0|0|0|" \
	"$(sqlite3 "$TMP/store.db" "select (select count(*) from participants p join messages m on
	   m.id = p.message_id where m.log = 'skipped'), (select count(*) from raw r join messages m on
	   m.id = r.message_id where m.log = 'skipped'), (select count(*) from messages where
	   log = 'skipped' and thread_id is not null), (select group_concat(subject, '') from messages
	   where log = 'skipped')")"
crm show thread "$(sqlite3 "$TMP/store.db" "select thread_id from messages where msgid = 's14.intro@example.com'")" \
	--json > "$TMP/t14.json"
check_equal "show thread --json says which rule set its visibility" \
	"team:sales subject rules 23" \
	"$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["visibility"]; print(v["inside"], v["outside"], v["rule"]["file"].split("/")[-1], v["rule"]["line"])' "$TMP/t14.json")"
crm show contact grace@acme.co.uk --json > "$TMP/grace.json"
check_equal "show contact --json says which rule captured it" "built-in 12 policy sent" \
	"$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["captured_by"]; print(v["file"], v["line"], v["text"])' "$TMP/grace.json")"
check_equal "deals lists the links" "DEAL-101     open   acme.com             threads   2  Acme renewal 2025  [dave@acme.com]" \
	"$(crm deals | grep DEAL-101)"
check_equal "importing the day again adds nothing" "imported 0, duplicates 16, failed 0" \
	"$(crm import "$SCEN/mail")"
dump_store "$TMP/store.db" "$TMP/" > "$TMP/again.txt"
check "importing the day again changes no decision" diff -u "$EXPECTED/T062-scenario.txt" "$TMP/again.txt"

# ---- the same day through crmilter: spool files drained by its worker ----
. "$CRM_TOP/tests/milter/postfix.sh"
if [ "$(id -u)" -ne 0 ] || [ ! -x "$CRM_BUILD/crmilter" ]; then
	skip "the scenario through crmilter" "needs root and crmilter"
	exit 0
fi
cleanup() { crm_stop KILL; rm -rf "$TMP"; }
trap cleanup EXIT
crm_user
chmod 711 "$TMP"
mkdir -p "$TMP/m/store" "$TMP/m/spool/new" "$TMP/m/run"
write_conf "$TMP/m.conf" RulesFile "$TMP/rules" SpoolDirectory "$TMP/m/spool" \
	PidFile "$TMP/m/run/pid" Socket "unix:$TMP/m/run/s.sock"
sed -i "s#^Database .*#Database $TMP/m/store/crm.db#" "$TMP/m.conf"
"$CRMCTL" -c "$TMP/m.conf" deals import "$SCEN/deals.csv" > /dev/null
# spool - MESSAGE as spool file number N: envelope from its headers,
# originated when From is ours
spool() {
	python3 - "$1" "$2" "$TMP/m/spool/new" <<'PY'
import email, email.utils, sys
path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
raw = open(path, 'rb').read()
msg = email.message_from_bytes(raw)
frm = email.utils.parseaddr(msg['From'])[1].lower()
rcpts = [a.lower() for _, a in email.utils.getaddresses(msg.get_all('To', []) + msg.get_all('Cc', []))]
env = 'queue-id Q%04d\nmail-from %s\n' % (n, frm) + ''.join('rcpt %s\n' % r for r in rcpts)
env += 'arrival %d\noriginated %d\n' % (1746518400 + n, 1 if frm.endswith('@example.com') else 0)
name = '%s/%010d.000000.1_%d.Q%04d' % (out, 1746518400 + n, n, n)
with open(name, 'wb') as f:
    f.write(b'CRMSPOOL1 %020d\n' % (31 + len(raw)) + raw + env.encode())
PY
}
i=0
for f in "$SCEN"/mail/*.eml; do i=$((i + 1)); spool "$f" "$i"; done
chown -R "$CRM_USER" "$TMP/m"
chmod 644 "$TMP/rules"
check "crmilter starts with the scenario rules" crm_start "$TMP/m.conf" "$TMP/m/log"
j=0
while [ -n "$(ls -A "$TMP/m/spool/new")" ] && [ $j -lt 200 ]; do sleep 0.1; j=$((j + 1)); done
check_equal "the worker drains the spool" "" "$(ls -A "$TMP/m/spool/new" "$TMP/m/spool/failed" 2> /dev/null | grep -v '^/\|^$')"
crm_stop TERM
dump_store "$TMP/m/store/crm.db" "$TMP/" > "$TMP/milter.txt"
check "through crmilter: every decision as expected" diff -u "$EXPECTED/T062-scenario.txt" "$TMP/milter.txt"
diff -u "$EXPECTED/T062-scenario.txt" "$TMP/milter.txt" | head -30 | sed 's/^/# /'
check_grep "crmilter logs the skipped bounce with its queue id and reason" "Q0013: message-id=<b13.bounce@mail.acme.com> direction=[a-z]* skipped: bounce$" "$TMP/m/log"
