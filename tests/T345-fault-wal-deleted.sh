#!/usr/bin/env bash
# T345-fault-wal-deleted.sh - the store's -wal and -shm deleted under a
# running crmilter lose nothing: it notices (within its 5 s poll, or at the
# next batch), copies what the deleted write-ahead log held into the
# database file through the connection that still holds it, keeps the spool
# files of the batch in hand, and opens the store again; after a SIGKILL and
# a restart every accepted message is in the store exactly once
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "a deleted write-ahead log under crmilter"
fault_setup
stored_n() { [ "$(q "SELECT count(*) FROM messages WHERE msgid LIKE '$1-%'")" = "$2" ]; }

check "300 messages are sent" send a 300 --clients 4
check "... and stored" wait_for 60 stored_n a 300
check "the store has a write-ahead log" test -e "$DB-wal"
rm -f "$DB-wal" "$DB-shm"
check "crmilter notices within its poll, with no new mail" \
	wait_for 15 grep -q "crm.db-wal was removed or replaced under crmilter" "$LOG"
check "... and saves what the deleted log held (logged once the copy is done)" \
	wait_for 15 grep -q "the write-ahead log was saved into the database file" "$LOG"
check "300 more are sent" send b 300 --clients 4
check "crmilter stores them into the store opened again" wait_for 60 stored_n b 300
crm_stop KILL
check "crmilter restarts after a SIGKILL" crm_start "$CONF" "$LOG" -v
check "the spool drains" wait_spool_empty 60
check_stored_once a
check_stored_once b
check "the store passes SQLite's integrity check" test "$(q 'pragma integrity_check')" = ok
exit 0
