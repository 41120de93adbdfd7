#!/usr/bin/env bash
# T340-fault-store-deleted.sh - the store file is deleted while crmilter runs:
# crmilter notices, keeps nothing in the deleted file, makes a new store, and
# every message sent after the deletion is in it exactly once
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "store deleted"
fault_setup

check "50 messages are sent before the deletion" send before 50 --clients 2
check_delivered before
check "the worker ingests them" wait_spool_empty 30
check_stored_once before

rm -f "$DB" "$DB-wal" "$DB-shm"
check "100 messages are sent after the store file is deleted" send after 100 --clients 4
check_delivered after
check "the worker drains the spool" wait_spool_empty 60
check "crmilter says the store file went away" grep -q 'store file .* was removed or replaced' "$LOG"
check "a new store file is there" test -s "$DB"
check_stored_once after
check_equal "nothing failed" 0 "$(ls "$SPOOL_DIR/failed" | wc -l)"
