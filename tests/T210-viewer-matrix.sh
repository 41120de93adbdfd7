#!/usr/bin/env bash
# T210-viewer-matrix.sh - who sees what in crmview: each user x each thread x
# each page and API endpoint (threads, records and their counts and timelines,
# unassigned, search), checked against a model of the visibility rule read
# from the store, and compared exactly with tests/viewer/expected/
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"

D=$TMP/v
viewer_store "$D" || { notok "the test store is built"; exit 1; }
ok "the test store is built"

check "crmview starts (admins bound by visibility)" viewer_start main "$D"
python3 "$VT/matrix.py" "$VIEW_URL" "$D/store.db" "$TMP/matrix.txt"
check_output "the matrix is the expected one" "$VT/expected/matrix.txt" cat "$TMP/matrix.txt"

check "crmview starts with ViewerAdminsSeePrivate yes" \
	viewer_start private "$D" ViewerAdminsSeePrivate yes
python3 "$VT/matrix.py" "$VIEW_URL" "$D/store.db" "$TMP/matrix-private.txt" --admins-see-private
grep '^admin ' "$TMP/matrix-private.txt" > "$TMP/admin-private.txt"
check_output "with ViewerAdminsSeePrivate, the admin's matrix is the expected one" \
	"$VT/expected/matrix-admin-private.txt" cat "$TMP/admin-private.txt"
HR=$(sqlite3 "$D/store.db" "SELECT thread_id FROM messages WHERE msgid = 'hr-1@payroll-partner.de'")
check_grep "the HR thread is hidden from the admin by default" "^admin thread $HR hidden html=404$" "$TMP/matrix.txt"
check_grep "ViewerAdminsSeePrivate shows it to the admin" "^admin thread $HR everything html=200$" "$TMP/admin-private.txt"
check_grep "carol sees the two HR messages she sent and received" \
	"^carol thread $HR everything html=200 sees=[0-9]*,[0-9]*$" "$TMP/matrix.txt"
check_grep "alice does not" "^alice thread $HR hidden html=404$" "$TMP/matrix.txt"

# outsiders reply into the private threads naming colleagues (tests/viewer/mail/v03-v09)
mid() { sqlite3 "$D/store.db" "SELECT id FROM messages WHERE msgid = '$1'"; }
PRIV=$(sqlite3 "$D/store.db" "SELECT thread_id FROM messages WHERE msgid = 'private-1@acme.com'")
GLOBEX=$(sqlite3 "$D/store.db" "SELECT thread_id FROM messages WHERE msgid = 'globex-cc-judy@globex.co.uk'")
check_grep "gina, only in Sender of an HR reply, sees nothing of the HR thread" \
	"^gina thread $HR hidden html=404$" "$TMP/matrix.txt"
check_grep "henry, only in Reply-To of an HR reply, sees nothing of the HR thread" \
	"^henry thread $HR hidden html=404$" "$TMP/matrix.txt"
check_grep "ivan, in To of an outsider's HR reply, sees that reply and nothing earlier" \
	"^ivan thread $HR everything html=200 sees=$(mid hr-5@payroll-partner.de)$" "$TMP/matrix.txt"
check_grep "judy, in Cc of an outsider's HR reply, sees that reply and nothing earlier" \
	"^judy thread $HR everything html=200 sees=$(mid hr-6@payroll-partner.de)$" "$TMP/matrix.txt"
check_grep "gina, in Reply-To of a Sensitivity: Private reply, does not see that thread" \
	"^gina thread $PRIV hidden html=404$" "$TMP/matrix.txt"
check_grep "henry, in Sender of it, does not either" "^henry thread $PRIV hidden html=404$" \
	"$TMP/matrix.txt"
check_grep "carol, its recipient, sees it" "^carol thread $PRIV everything html=200$" "$TMP/matrix.txt"
check_grep "judy, put in Cc of a sales-team thread by an outsider, reads that reply, the rest at subject level" \
	"^judy thread $GLOBEX everything html=200 messages=.*$(mid globex-cc-judy@globex.co.uk):everything" \
	"$TMP/matrix.txt"
check_grep "frank still sees that team thread at subject level only" \
	"^frank thread $GLOBEX subject html=200$" "$TMP/matrix.txt"

# rules files by name for members, by path for admins (no server path to a member)
rule_file() { curl -s -b "$TMP/jar.$1" "$VIEW_URL/api/threads/$HR" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["visibility"]["rule"]["file"])'; }
login "$TMP/jar.carol" carol && login "$TMP/jar.admin" admin
check_equal "a member sees the rules file by its name" rules "$(rule_file carol)"
check_equal "an admin sees its full path" "$VT/rules" "$(rule_file admin)"
for p in "threads/$HR" "api/threads/$HR" "accounts" "api/accounts/$(sqlite3 "$D/store.db" \
	"SELECT id FROM accounts WHERE domain = 'payroll-partner.de'")"; do
	curl -s -b "$TMP/jar.carol" "$VIEW_URL/$p" > "$TMP/page"
	check_fails "no server path on /$p for a member" grep -q "$CRM_TOP" "$TMP/page"
done
exit 0
