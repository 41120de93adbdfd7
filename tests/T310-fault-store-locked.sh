#!/usr/bin/env bash
# T310-fault-store-locked.sh - another writer holds the store locked for 30 s:
# Postfix delivers every message meanwhile, crmilter keeps them in its spool,
# and once the lock is gone every one is in the store exactly once
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "store locked for 30 s"
fault_setup

# the other writer: an exclusive transaction held for 30 s
python3 - "$DB" "$TMP/locked" > "$TMP/locker.out" 2>&1 <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(30)
db.execute("COMMIT")
PY
locker=$!
check "another writer holds the store exclusively" wait_for 15 test -e "$TMP/locked"
t0=$(date +%s)

check "200 messages are sent while the store is locked" send lock 200 --clients 4
check_delivered lock
elapsed=$(( $(date +%s) - t0 ))
if [ $elapsed -lt 30 ] && kill -0 $locker 2> /dev/null; then
	ok "all of it within ${elapsed} s, while the lock was still held"
else
	notok "mail flowed while the lock was held (took ${elapsed} s)"
fi
check_equal "meanwhile nothing reached the store" 0 "$(q "select count(*) from messages where msgid like 'lock-%'")"
check_equal "crmilter spooled all 200" 200 "$(ls "$SPOOL_DIR/new" | wc -l)"

wait $locker
check_grep "crmilter says the store is busy and the mail waits in the spool" \
	'store busy: .*wait in the spool' "$LOG"
check "the worker drains the spool once the lock is gone" wait_spool_empty 90
check_stored_once lock
check_equal "nothing failed" 0 "$(ls "$SPOOL_DIR/failed" | wc -l)"
