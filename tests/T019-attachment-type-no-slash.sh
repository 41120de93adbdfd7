#!/usr/bin/env bash
# T019-attachment-type-no-slash.sh - a part whose Content-Type has no slash
# ("application-x-gzip; name=...", as some mailers write it) keeps its file
# name, is listed as application/octet-stream, and is never taken for the
# message's text
. "$(dirname "$0")/test-lib.sh"

mkdir -p "$TMP/m"
printf 'From: a@acme.com\nTo: b@example.com\nSubject: The logs\nMessage-ID: <gz-1@acme.com>\nDate: Tue, 06 May 2025 09:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\nSee attached.\n--B\nContent-Type: application-x-gzip; name="logs-2025.tar.gz"\nContent-Transfer-Encoding: base64\n\nH4sIAAAAAAAAA+3BAQ0AAADCoPdPbQ8HFAAAAAAAAAAAAAAA\n--B--\n' \
	> "$TMP/m/gz.eml"
write_conf "$TMP/c.conf"
"$CRMCTL" -c "$TMP/c.conf" import "$TMP/m" > /dev/null 2>&1
check_equal "the attachment keeps its name, as octet-stream, with its 36 bytes" \
	"logs-2025.tar.gz|application/octet-stream|36" \
	"$(sqlite3 -readonly "$TMP/store.db" "select filename, content_type, size from attachments")"
"$CRMCTL" -c "$TMP/c.conf" export --format jsonl > "$TMP/all.jsonl" 2> /dev/null
check "the text is the text part's alone" grep -q '"body":"See attached.\(\\n\)\?"' "$TMP/all.jsonl"
exit 0
