#!/usr/bin/env bash
# S400-load.sh - the load test (make test-slow): 10,000 messages through
# Postfix from 20 concurrent SMTP clients, sizes mixed from 2 KB to 20 MB.
# Nothing is lost (Postfix delivers all, the store holds all, once each);
# crmilter's RSS stays flat (sampled every second: the peak of the second
# half is at most 64 MB over the peak of the first half, and under 768 MB);
# no file descriptor leaks (the count after the run equals the count before).
# LOAD_COUNT and LOAD_CLIENTS override the size of the run.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "load"
COUNT=${LOAD_COUNT:-10000}
CLIENTS=${LOAD_CLIENTS:-20}
fault_setup
postconf -c "$PF/etc" -e default_process_limit=200 smtpd_client_connection_count_limit=0 > /dev/null
postfix -c "$PF/etc" reload > /dev/null 2>&1
sleep 1

fds_before=$(ls "/proc/$CRM_PID/fd" | wc -l)
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$CRM_PID/status" 2> /dev/null; }
( while kill -0 "$CRM_PID" 2> /dev/null; do echo "$(date +%s) $(rss)"; sleep 1; done ) > "$TMP/rss" &
sampler=$!
t0=$(date +%s)
check "$COUNT messages are sent by $CLIENTS clients" send load "$COUNT" --clients "$CLIENTS" \
	--per-conn 25 --sizes 2k:85,20k:10,200k:4,2M:0.9,20M:0.1
check_delivered load
check "the worker drains the spool" wait_spool_empty 600
secs=$(( $(date +%s) - t0 ))
sleep 6		# the worker's idle poll: let it settle before counting fds
fds_after=$(ls "/proc/$CRM_PID/fd" | wc -l)
kill $sampler 2> /dev/null
check_stored_once load
ok "$COUNT messages ($(du -sh "$TMP/sink" | cut -f1) delivered) in $secs s; $(grep -c 'truncated' "$LOG") truncated"
check_equal "no file descriptor leaks (open before and after)" "$fds_before" "$fds_after"
n=$(wc -l < "$TMP/rss")
first=$(head -n $((n / 2)) "$TMP/rss" | awk '$2 > m {m = $2} END {print m + 0}')
second=$(tail -n $((n - n / 2)) "$TMP/rss" | awk '$2 > m {m = $2} END {print m + 0}')
if [ "$n" -ge 10 ] && [ "$second" -le $((first + 65536)) ] && [ "$second" -lt 786432 ]; then
	ok "RSS flat: peak $((first / 1024)) MB in the first half, $((second / 1024)) MB in the second ($n samples)"
else
	notok "RSS flat (first half peak ${first} kB, second half ${second} kB, $n samples)"
fi
check_equal "nothing failed" 0 "$(ls "$SPOOL_DIR/failed" | wc -l)"
