#!/usr/bin/env bash
# T446-reader-folder.sh - a reader (crmctl stats, crmview) run as a user who
# cannot write the store's folder cannot make the store's -shm file: the
# error says so and names the folder, instead of SQLite's bare "attempt to
# write a readonly database"
. "$(dirname "$0")/test-lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v runuser > /dev/null || ! id nobody > /dev/null 2>&1; then
	skip "a reader without the folder" "needs root, runuser and the user nobody"
	exit 0
fi
D=$TMP/store
mkdir -p "$D" && chmod 755 "$TMP" "$D"
write_conf "$TMP/c.conf"
sed -i "s|$TMP/store.db|$D/store.db|" "$TMP/c.conf"
chmod 644 "$TMP/c.conf"
printf 'From: dave@acme.com\nTo: alice@example.com\nSubject: Hello\nMessage-ID: <rf-1@acme.com>\nDate: Tue, 06 May 2025 09:00:00 +0000\n\nHello.\n' > "$TMP/m.eml"
"$CRMCTL" -c "$TMP/c.conf" import "$TMP/m.eml" > /dev/null 2>&1
chown root:root "$D/store.db" && chmod 644 "$D/store.db"
rm -f "$D/store.db-shm" "$D/store.db-wal"
runuser -u nobody -- "$CRMCTL" -c "$TMP/c.conf" stats > /dev/null 2> "$TMP/err"
check_equal "crmctl stats as nobody fails (exit 3)" 3 $?
check_grep "the error names the -shm file and the folder" \
	"a reader makes $D/store.db-shm, and user [0-9]* cannot write the folder $D:" "$TMP/err"
# with the folder writable the same reader works
chown nobody "$D"
check "and with the folder its own, the reader reads the store" \
	runuser -u nobody -- "$CRMCTL" -c "$TMP/c.conf" stats
exit 0
