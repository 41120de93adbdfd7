#!/usr/bin/env bash
# T220-viewer-browser.sh - a real browser (headless Chromium from Debian) logs
# in to crmview, walks records -> record -> thread -> search with screenshots,
# and shows the hostile messages of tests/viewer/mail as inert text; then
# Ivan, put in To of one outsider's reply into the private HR thread, sees
# that reply and nothing earlier.  The
# screenshots are kept in $CRM_BUILD/screenshots/.  Skipped without chromium.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"

if ! command -v chromium > /dev/null 2>&1; then
	skip "browser walk" "chromium is not installed (apt-get install chromium)"
	exit 0
fi
D=$TMP/v
viewer_store "$D" || { notok "the test store is built"; exit 1; }
check "crmview starts" viewer_start main "$D"
HOSTILE=$(sqlite3 "$D/store.db" "SELECT thread_id FROM messages WHERE msgid = 'hostile-1@evil-corp.example'")
HR=$(sqlite3 "$D/store.db" "SELECT thread_id FROM messages WHERE msgid = 'hr-1@payroll-partner.de'")
SHOTS=$CRM_BUILD/screenshots
rm -rf "$SHOTS"; mkdir -p "$SHOTS"
timeout 120 python3 "$VT/browser.py" "$VIEW_URL" "$SHOTS" "$HOSTILE" "$HR" ||
	notok "the browser walk ran to its end"
check_equal "crmview was asked for no /pwned address" 0 "$(grep -c -i '"GET /pwned' "$D/main-access.log")"
check_equal "eight screenshots are kept" 8 "$(ls "$SHOTS"/*.png 2> /dev/null | wc -l)"
exit 0
