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
check_grep "carol, inside the HR thread, sees it" "^carol thread $HR everything html=200$" "$TMP/matrix.txt"
check_grep "alice does not" "^alice thread $HR hidden html=404$" "$TMP/matrix.txt"
exit 0
