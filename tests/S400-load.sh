#!/usr/bin/env bash
# S400-load.sh - the load test (make test-slow): 10,000 messages through
# Postfix from 20 concurrent SMTP clients, sizes mixed from 2 KB to 20 MB,
# sent in two equal rounds.  Nothing is lost (Postfix delivers all, the
# store holds all, once each); crmilter's RSS stays flat: at rest after the
# second round it is within 32 MB of its rest after the first (16 MB for
# the store's page cache, which may still be filling; a leak of 7 KB a
# message fails), and its peak, sampled every second, stays under
# 512 MB; no file descriptor leaks (the count after the run equals the
# count before).  First, four 20 MB messages after a warm-up of small ones
# leave crmilter within 12 MB of its size before them (the heap of a large
# message goes back to the system: glibc's own thresholds kept 23-44 MB;
# the margin holds because send.py's filler compresses to almost nothing,
# so the store's compression state stays small).
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

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$CRM_PID/status" 2> /dev/null; }

# round PREFIX - send half the messages, check them, let crmilter come to rest
round() {
	local t0=$(date +%s)
	check "$1: $((COUNT / 2)) messages are sent by $CLIENTS clients" send "$1" $((COUNT / 2)) \
		--clients "$CLIENTS" --per-conn 25 --sizes 2k:85,20k:10,200k:4,2M:0.9,20M:0.1
	check_delivered "$1"
	check "$1: the worker drains the spool" settle
	ok "$1: $((COUNT / 2)) messages in $(( $(date +%s) - t0 - 6 )) s; $(grep -c 'truncated' "$LOG") truncated so far"
	check_stored_once "$1"
}

# settle - wait for the spool to drain and the worker to go idle
settle() { wait_spool_empty 600 && sleep 6; }

fds_before=$(ls "/proc/$CRM_PID/fd" | wc -l)
( while kill -0 "$CRM_PID" 2> /dev/null; do echo "$(date +%s) $(rss)"; sleep 1; done ) > "$TMP/rss" &
sampler=$!
check "a warm-up of 100 small messages is sent" send warm 100 --clients 2 --sizes 2k:1
check "... and stored" settle
warm=$(rss)
check "four 20 MB messages are sent" send big 4 --clients 1 --sizes 20M:1
check "... and stored" settle
big=$(rss)
check "RSS at rest after four 20 MB messages: $((warm / 1024)) MB before, $((big / 1024)) MB after" \
	test "$big" -le $((warm + 12288))
check_stored_once big
round load1
rest1=$(rss)
round load2
rest2=$(rss)
fds_after=$(ls "/proc/$CRM_PID/fd" | wc -l)
kill $sampler 2> /dev/null
peak=$(awk '$2 > m {m = $2} END {print m + 0}' "$TMP/rss")

check_equal "no file descriptor leaks (open before and after)" "$fds_before" "$fds_after"
mb() { echo "$(( $1 / 1024 )) MB"; }
check "RSS flat: at rest $(mb "$rest1") after round 1, $(mb "$rest2") after round 2; peak $(mb "$peak")" \
	test "$rest2" -le $((rest1 + 32768))
check "RSS peak under 512 MB ($(wc -l < "$TMP/rss") samples)" test "$peak" -lt 524288
check_equal "nothing failed" 0 "$(ls "$SPOOL_DIR/failed" | wc -l)"
