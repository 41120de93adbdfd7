#!/usr/bin/env bash
# T320-fault-store-readonly.sh - the database file is made read-only (and the
# store reopened, as after a reload): mail flows, the spool holds it, and
# after the mode is restored every message is in the store exactly once
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "read-only store"
fault_setup

chmod 0444 "$DB"
kill -HUP "$CRM_PID"	# the worker reopens the store on a new configuration
check "crmilter rebuilds its ingest pipeline after SIGHUP" wait_for 10 grep -q 'ingest pipeline rebuilt' "$LOG"
check "100 messages are sent while the store is read-only" send ro 100 --clients 4
check_delivered ro
sleep 2
check_equal "nothing reached the read-only store" 0 "$(q "select count(*) from messages where msgid like 'ro-%'")"
check_equal "crmilter spooled all 100" 100 "$(ls "$SPOOL_DIR/new" | wc -l)"
check_grep "crmilter logs the read-only store" 'store read-only: ' "$LOG"

chmod 0640 "$DB"
kill -HUP "$CRM_PID"	# a reload (or the next message) wakes the worker from its backoff
check "the worker drains the spool once the file is writable again" wait_spool_empty 90
check_stored_once ro
check_equal "nothing failed" 0 "$(ls "$SPOOL_DIR/failed" | wc -l)"
