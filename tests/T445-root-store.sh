#!/usr/bin/env bash
# T445-root-store.sh - crmctl run as root never locks crmilter out of its
# store: a root crmctl import into a store that does not exist yet makes it
# the service user's, mode 0640 (not root's 0644), and crmilter behind a
# private Postfix then stores mail into it at once; a store root owns gets a
# warning with the chown to run
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "a store crmctl made as root, through crmilter"
fault_setup
crm_stop
rm -f "$DB" "$DB-wal" "$DB-shm"
ctl() { env -u SUDO_USER "$CRMCTL" -c "$CONF" "$@"; }
check "a root crmctl import creates the store" ctl import "$CORPORA/mail/001-acme-q3-forecast.eml"
check_equal "... owned by the service user and its group, mode 0640" "$CRM_USER:$(id -gn "$CRM_USER") 640" \
	"$(stat -c '%U:%G %a' "$DB")"
check_equal "... and no -wal or -shm of root's is left" "" \
	"$(find "$STORE_DIR" -user root -name 'crm.db*')"
crm_start "$CONF" "$LOG" -v
send live 3
stored3() { [ "$(q "SELECT count(*) FROM messages WHERE msgid LIKE 'live-%'")" = 3 ]; }
check "crmilter stores mail into it at once" wait_for 60 stored3
check_fails "... and never finds it read-only" grep -q "readonly database" "$LOG"
check_equal "crmilter's -wal is its own" "$CRM_USER" "$(stat -c %U "$DB-wal" 2> /dev/null)"
crm_stop
ctl user add alice@example.com > /dev/null 2>&1
check_equal "a root crmctl that writes the store leaves it the service user's" "$CRM_USER" \
	"$(stat -c %U "$DB")"
chown root: "$DB"
ctl stats > /dev/null 2> "$TMP/err"
check_fails "a read needs no warning" grep -q "owned by root" "$TMP/err"
ctl user add bob@example.com > /dev/null 2> "$TMP/err"
check_grep "a store owned by root gets a warning with the chown to run" \
	"is owned by root: crmilter and crmview (user $CRM_USER) cannot use it; run: chown $CRM_USER: $DB\*" "$TMP/err"
exit 0
