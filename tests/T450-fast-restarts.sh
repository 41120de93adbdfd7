#!/usr/bin/env bash
# T450-fast-restarts.sh - restarts faster than a batch still drain the spool:
# 2,000 messages wait in the spool (the store was locked), then crmilter is
# started and killed (SIGKILL) 30 times, 0.02-0.25 s apart; it must make
# progress between restarts (batches start small and are cut at a time
# budget), and once it runs, every message is in the store exactly once
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "fast restarts through Postfix and crmilter"
fault_setup
N=2000
spooled() { [ "$(ls "$SPOOL_DIR/new" | wc -l)" -ge "$1" ]; }
store_lock hold
send r "$N" --clients 8
check "$N messages wait in the spool while the store is locked" wait_for 120 spooled "$N"
crm_stop KILL
store_unlock hold
delivered=$(q "SELECT count(*) FROM messages WHERE msgid LIKE 'r-%'")
check_equal "none was stored yet" 0 "$delivered"

# 30 starts, each killed after 0.02-0.25 s (a fixed sequence, so runs repeat);
# under ASan, where parsing is several times slower, 4 times as long
slow=1; [ -n "${CRM_SANITIZE:-}" ] && slow=4
for i in $(seq 30); do
	crm_start "$CONF" "$LOG" || break
	sleep "$(awk -v i="$i" -v k="$slow" 'BEGIN { srand(i); printf "%.2f", k * (0.02 + rand() * 0.23) }')"
	crm_stop KILL
done
left=$(ls "$SPOOL_DIR/new" | wc -l)
stored=$(q "SELECT count(*) FROM messages WHERE msgid LIKE 'r-%'")
echo "# after 30 restarts: $stored stored, $left left in the spool"
check "30 fast restarts store at least half the backlog ($stored of $N)" test "$stored" -ge $((N / 2))
check "... and nothing is lost: each is stored or still waits" test "$((stored + left))" -ge "$N"
crm_start "$CONF" "$LOG" -v
check "crmilter running drains the rest" wait_spool_empty 120
check_stored_once r
exit 0
