#!/usr/bin/env bash
# T456-signal-at-start.sh - a SIGHUP that comes after crmilter's socket is
# up but before it is ready (here: its store needs a migration while
# another process holds it locked, so opening it waits) is taken once
# crmilter is ready: it reloads, it is not killed by the signal's default
# action
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

crm_alone "a signal at start"
write_conf "$TMP/c.conf" SpoolDirectory "$TMP/m/spool" PidFile "$TMP/m/run/pid" Socket "unix:$TMP/m/run/s.sock"
sed -i "s#^Database .*#Database $TMP/m/store/crm.db#" "$TMP/c.conf"
crm_start "$TMP/c.conf" "$TMP/log0" && crm_stop
# back to schema 7, so that the next start migrates it and must wait for the lock
sqlite3 "$TMP/m/store/crm.db" "DROP TRIGGER thread_people_follow; DROP TABLE thread_people;
	DROP INDEX threads_hidden;
	$(for k in account contact deal; do for e in insert delete update; do
		echo "DROP TRIGGER links_fold_${k}_$e;"; done; done)
	$(for t in accounts contacts deals; do for c in shown_n shown_last shown_li shown_lo shown_wu shown_wt; do
		echo "ALTER TABLE $t DROP COLUMN $c;"; done; done)
	DROP TRIGGER links_follow_thread; DROP TRIGGER links_take_thread; DROP TRIGGER links_move_thread;
	DROP INDEX links_account_time; DROP INDEX links_contact_time; DROP INDEX links_deal_time;
	$(for tc in threads:last_in threads:last_out threads:wait_us threads:wait_them links:last_in \
		links:last_out links:wait_us links:wait_them; do echo "ALTER TABLE ${tc%%:*} DROP COLUMN ${tc#*:};"; done)
	CREATE INDEX links_account_time ON links(account_id, last_date, thread_id, shown) WHERE account_id IS NOT NULL;
	CREATE INDEX links_contact_time ON links(contact_id, last_date, thread_id, shown) WHERE contact_id IS NOT NULL;
	CREATE INDEX links_deal_time ON links(deal_id, last_date, thread_id, shown) WHERE deal_id IS NOT NULL;
	CREATE TRIGGER links_follow_thread AFTER UPDATE OF last_date ON threads BEGIN SELECT 1; END;
	CREATE TRIGGER links_take_thread AFTER INSERT ON links BEGIN SELECT 1; END;
	CREATE TRIGGER links_move_thread AFTER UPDATE OF thread_id ON links BEGIN SELECT 1; END;
	PRAGMA user_version = 7"
check_equal "the store is at schema 7 again" 7 "$(sqlite3 "$TMP/m/store/crm.db" "PRAGMA user_version")"
python3 - "$TMP/m/store/crm.db" > "$TMP/lock.out" 2>&1 << 'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(3)
db.execute("COMMIT")
PY
LOCKER=$!
i=0; while ! grep -q locked "$TMP/lock.out" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "the store is held locked" grep -q locked "$TMP/lock.out"
check "crmilter's socket comes up while the store is locked" crm_start "$TMP/c.conf" "$TMP/log"
check "...and it is still opening the store" sh -c "! grep -q ' started: ' '$TMP/log'"
check_equal "...not migrated yet" 7 "$(sqlite3 -readonly "$TMP/m/store/crm.db" "PRAGMA user_version" 2> /dev/null)"
kill -HUP "$CRM_PID"
wait "$LOCKER"
i=0; while ! grep -q ' started: ' "$TMP/log" && kill -0 "$CRM_PID" 2> /dev/null && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1)); done
check "the SIGHUP did not kill it" kill -0 "$CRM_PID"
check_equal "...and it migrated the store once the lock went" 8 \
	"$(sqlite3 -readonly "$TMP/m/store/crm.db" "PRAGMA user_version")"
i=0; while ! grep -qi 'reload' "$TMP/log" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_grep "...it reloaded once ready" "reload" "$TMP/log"
crm_stop
check_grep "SIGTERM stops it cleanly" "stopped$" "$TMP/log"
