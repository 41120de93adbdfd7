#!/usr/bin/env bash
# T017-import-folders.sh - crmctl import DIR reads every message file under
# DIR: a Maildir's cur/ and new/, loose message files beside them, Maildir++
# folders (.Sent, .Archive.2019), Maildirs nested in plain folders; what it
# does not read (a Maildir's tmp/, a hidden file, a mail server's index, a
# link to nothing, a FIFO) is named with its reason and counted in the
# summary
. "$(dirname "$0")/test-lib.sh"

M=$TMP/home/Maildir
n=0
# msg DIR - a new message file in DIR
msg() {
	n=$((n + 1))
	mkdir -p "$1"
	printf 'From: dave@acme.com\nTo: alice@example.com\nSubject: Message %s\nMessage-ID: <folder-%s@acme.com>\nDate: Tue, 06 May 2025 09:%02d:00 +0000\n\nHello %s.\n' \
		"$n" "$n" "$n" "$n" > "$1/$((1746522000 + n)).M${n}P1.mx.example.com:2,S"
}
msg "$M/cur"; msg "$M/cur"; msg "$M/new"
msg "$M/.Sent/cur"; msg "$M/.Sent/cur"; mkdir -p "$M/.Sent/new" "$M/.Sent/tmp"
msg "$M/.Archive.2019/new"; mkdir -p "$M/.Archive.2019/cur"
msg "$TMP/home/Projects/Acme/cur"; mkdir -p "$TMP/home/Projects/Acme/new"
msg "$TMP/home/loose"; mv "$TMP/home/loose/"* "$M/forwarded.eml"; rmdir "$TMP/home/loose"
msg "$M/tmp"                                # a delivery in progress
echo "3 V1 N4" > "$M/dovecot-uidlist"
printf 'Bud1' > "$M/.DS_Store"
ln -s "$TMP/nowhere" "$M/cur/1746529999.gone:2,S"
mkfifo "$M/new/pipe"
write_conf "$TMP/c.conf"
"$CRMCTL" -c "$TMP/c.conf" import "$TMP/home" > "$TMP/out" 2> "$TMP/err"
rc=$?
check_equal "every message under the folder is imported, and the rest counted" \
	"imported 8, duplicates 0, failed 0, skipped 5" "$(cat "$TMP/out")"
check_equal "... exit 0: nothing failed" 0 "$rc"
for what in "Maildir/tmp: a Maildir's tmp/" "dovecot-uidlist: a mail server's index file" \
	".DS_Store: a hidden file" "1746529999.gone:2,S: a link to nothing" "new/pipe: not a regular file"; do
	check_grep "named with its reason: ${what%%:*}" "^crmctl: skipped .*$what" "$TMP/err"
done
check_equal "the loose file, the Maildir++ folders and the nested Maildir are read" 8 \
	"$(sqlite3 -readonly "$TMP/store.db" "select count(*) from messages where msgid like 'folder-%'")"
exit 0
