#!/usr/bin/env bash
# T330-fault-disk-full.sh - the disk under the store is full (a 4 MB tmpfs
# made by the test, filled up): mail flows, the spool (on another disk)
# holds it, and once space is freed every message is in the store exactly once
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "disk full under the store"
STORE_DIR=$TMP/store
if ! fault_mount "$STORE_DIR" 4m; then
	skip "disk full under the store" "cannot mount a tmpfs here"
	exit 0
fi
fault_setup

dd if=/dev/zero of="$STORE_DIR/filler" bs=16k > /dev/null 2>&1
check_equal "the store's disk is full" 0 "$(df --output=avail -B1 "$STORE_DIR" | tail -1 | tr -d ' ')"
check "100 messages of 20 KB are sent while the disk is full" send full 100 --clients 4 --sizes 20k:1
check_delivered full
check "crmilter logs the full store" wait_for 30 grep -q 'store full: ' "$LOG"
check_equal "nothing reached the store" 0 "$(q "select count(*) from messages where msgid like 'full-%'")"
check_equal "crmilter spooled all 100" 100 "$(ls "$SPOOL_DIR/new" | wc -l)"

rm -f "$STORE_DIR/filler"
kill -HUP "$CRM_PID"	# a reload (or the next message) wakes the worker from its backoff
check "the worker drains the spool once there is space" wait_spool_empty 90
check_stored_once full
check_equal "nothing failed" 0 "$(ls "$SPOOL_DIR/failed" | wc -l)"
check "the store passes SQLite's integrity check" test "$(q 'pragma integrity_check')" = ok
