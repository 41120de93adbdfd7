#!/usr/bin/env bash
# T014-import-bom.sh - a UTF-8 byte order mark before the first header (as
# editors on Windows save .eml files) is not part of the message: import
# takes the file, and its first header is read as it is written; an mbox
# that starts with one is still split into its messages
. "$(dirname "$0")/test-lib.sh"

mkdir -p "$TMP/mail"
printf '\357\273\277From: dave@acme.com\r\nTo: alice@example.com\r\nSubject: With a BOM\r\nMessage-ID: <bom-1@acme.com>\r\nDate: Tue, 06 May 2025 09:00:00 +0000\r\n\r\nHello.\r\n' \
	> "$TMP/mail/bom.eml"
printf '\357\273\277From dave@acme.com Tue May  6 09:00:00 2025\nFrom: dave@acme.com\nTo: alice@example.com\nSubject: First in a BOM mbox\nMessage-ID: <bom-2@acme.com>\nDate: Tue, 06 May 2025 09:00:00 +0000\n\nOne.\n\nFrom dave@acme.com Tue May  6 10:00:00 2025\nFrom: dave@acme.com\nTo: alice@example.com\nSubject: Second in a BOM mbox\nMessage-ID: <bom-3@acme.com>\nDate: Tue, 06 May 2025 10:00:00 +0000\n\nTwo.\n' \
	> "$TMP/mail/bom.mbox"
write_conf "$TMP/c.conf"
"$CRMCTL" -c "$TMP/c.conf" import "$TMP/mail" > "$TMP/out" 2> "$TMP/err"
check_equal "import takes all three messages (exit 0)" "0 imported 3, duplicates 0, failed 0" "$? $(cat "$TMP/out")"
sed 's/^/# /' "$TMP/err" | head -3
q() { sqlite3 -readonly "$TMP/store.db" "$1"; }
check_equal "the .eml's first header is read: its sender and subject" "dave@acme.com|With a BOM" \
	"$(q "select p.address, m.subject from messages m join participants p on p.message_id = m.id and p.role = 'from' where m.msgid = 'bom-1@acme.com'")"
check_equal "the mbox is split into its two messages" "First in a BOM mbox|Second in a BOM mbox" \
	"$(q "select group_concat(subject, '|') from (select subject from messages where msgid in ('bom-2@acme.com', 'bom-3@acme.com') order by msgid)")"
exit 0
