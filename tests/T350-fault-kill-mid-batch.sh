#!/usr/bin/env bash
# T350-fault-kill-mid-batch.sh - crmilter is killed with SIGKILL in the
# middle of a batch and restarted: every message it accepted is in the
# store exactly once.  Two rounds of 300 messages, gathered in the spool
# behind a held lock; crmilter is stopped (SIGSTOP), the lock released and
# crmilter continued (SIGCONT) so that its worker starts draining at once:
# round 1 is killed as soon as its first batch is committed (new/ holds fewer
# than 300), while the next batch is being parsed, written or committed (at a
# fixed delay instead, a fast machine drains all 300 first), round 2 right after a commit, while that batch's
# spool files are being removed one by one.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "SIGKILL mid-batch"
fault_setup

# killer MODE - SIGKILL crmilter at the moment MODE names (polls every ms)
killer() {
	python3 - "$1" "$CRM_PID" "$LOG" "$TMP/killer-ready" "$SPOOL_DIR/new" <<'PY'
import os, sys, time
mode, pid, log, ready, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
count = lambda what: open(log, errors="replace").read().count(what)
logged0 = count(" logged; ")
open(ready, "w").close()
end = time.time() + 60
while time.time() < end:
    if mode == "batch" and os.path.exists(ready + ".go") and len(os.listdir(new)) < 300:
        break
    if mode == "log" and count(" logged; ") > logged0:
        break
    time.sleep(0.001)
os.kill(pid, 9)
PY
}

for round in 1 2; do
	mode=batch; [ $round -eq 2 ] && mode=log
	store_lock "round$round"
	check "round $round: 300 messages are sent while the store is locked" send kill$round 300 --clients 4
	check_delivered kill$round
	check_equal "round $round: all 300 wait in the spool" 300 "$(ls "$SPOOL_DIR/new" | wc -l)"
	kill -STOP "$CRM_PID"
	store_unlock "round$round"
	rm -f "$TMP/killer-ready" "$TMP/killer-ready.go"
	killer $mode &
	kpid=$!
	wait_for 10 test -e "$TMP/killer-ready"
	: > "$TMP/killer-ready.go"
	kill -CONT "$CRM_PID"
	wait $kpid
	wait "$CRM_PID" 2> /dev/null 3>&-
	CRM_PID=
	left=$(ls "$SPOOL_DIR/new" | wc -l)
	stored=$(q "select count(*) from messages where msgid like 'kill$round-%'")
	if [ "$left" -gt 0 ] && [ $((stored + left)) -ge 300 ]; then
		ok "round $round: killed while draining, nothing lost ($stored committed, $left still in new/, $((stored + left - 300)) of them both)"
	else
		notok "round $round: killed while draining, nothing lost ($stored committed, $left still in new/)"
	fi
	check "round $round: crmilter restarts on the same spool and store" crm_start "$CONF" "$LOG" -v
	check "round $round: the worker drains the spool" wait_spool_empty 60
	check_stored_once kill$round
done
check_equal "nothing failed" 0 "$(ls "$SPOOL_DIR/failed" | wc -l)"
check "the store passes SQLite's integrity check" test "$(q 'pragma integrity_check')" = ok
