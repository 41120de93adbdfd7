#!/usr/bin/env bash
# T500-status.sh - crmctl status, the health check: its plugin line and
# exit status in each state (OK, spool backing up, failed files, crmilter
# down or its pid file stale, something unreadable), the messages logged
# and skipped in the last hour and day by milter arrival, and --json.
# A real crmilter ingests spool files written here, with chosen arrival
# times; SIGSTOP stands for a worker that no longer drains the spool.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

CRMILTER=$CRM_BUILD/crmilter
cleanup() {
	[ -n "$CRM_PID" ] && kill -CONT "$CRM_PID" 2> /dev/null
	crm_stop KILL
	rm -rf "$TMP"
}
trap cleanup EXIT

# status [ARGS...] - run crmctl status on the test configuration: output in
# $TMP/st, exit status in $RC, the first line in $LINE1
status() {
	"$CRMCTL" -c "$TMP/c.conf" status "$@" > "$TMP/st" 2> "$TMP/st.err"
	RC=$?
	LINE1=$(head -1 "$TMP/st")
}

# check_line1 DESC RC REGEX - the exit status and the plugin line
check_line1() {
	if [ "$RC" = "$2" ] && printf '%s\n' "$LINE1" | grep -Eq -- "$3"; then
		ok "$1"
	else
		notok "$1 (exit $RC, expected $2)"
		echo "# expected /$3/"
		sed 's/^/# /' "$TMP/st" "$TMP/st.err" | head -20
	fi
}

# ---- without a daemon: arguments, and a crmilter that never ran ----
write_conf "$TMP/c.conf" SpoolDirectory "$TMP/spool" PidFile "$TMP/run/crmilter.pid" \
	Socket "unix:$TMP/run/s.sock" RulesFile "$CRM_TOP/contrib/rules.example"
sed -i "s#^Database .*#Database $TMP/store/crm.db#" "$TMP/c.conf"
mkdir -p "$TMP/run" "$TMP/store"

status --warn-age soon
check_equal "a bad duration exits 3 (UNKNOWN)" 3 "$RC"
check_grep "a bad duration is named" "warn-age soon: expected seconds" "$TMP/st.err"
status --warn-age 2h --crit-age 1h
check_equal "--warn-age longer than --crit-age exits 3" 3 "$RC"
status extra
check_equal "an extra argument exits 3" 3 "$RC"
check "crmctl status --help exits 0" "$CRMCTL" -c "$TMP/c.conf" status --help
check "crmctl --help lists status" sh -c "'$CRMCTL' --help | grep -q '^  status '"

status
check_line1 "no daemon, spool or store yet: CRITICAL, exit 2" 2 \
	"^CRMILTER CRITICAL - crmilter is not running \\(no pid file $TMP/run/crmilter.pid\\); spool $TMP/spool: No such file or directory; store .*crm.db"

if [ "$(id -u)" -ne 0 ] || [ ! -x "$CRMILTER" ]; then
	skip "crmctl status against a running crmilter" "needs root and crmilter"
	exit 0
fi
crm_user
chmod 711 "$TMP"
chown "$CRM_USER" "$TMP/run" "$TMP/store"

# spoolfile NAME ARRIVAL FROM TO SUBJECT [MSGID] - a spool file in new/, as crmilter writes them
NOW=$(date +%s)
spoolfile() {
	local name=$1 arrival=$2 from=$3 to=$4 subject=$5 msgid=${6:-$1} body off
	body="From: $from"$'\r\n'"To: $to"$'\r\n'"Subject: $subject"$'\r\n'"Message-ID: <$msgid@t500.test>"$'\r\n'"Date: Mon, 01 Jan 2024 10:00:00 +0000"$'\r\n\r\n'"Hello"$'\r\n'
	off=$((31 + ${#body}))
	mkdir -p "$TMP/spool/new"
	{
		printf 'CRMSPOOL1 %020d\n' "$off"
		printf '%s' "$body"
		printf 'queue-id %s\nmail-from %s\nrcpt %s\narrival %s\noriginated 0\n' "$name" "$from" "$to" "$arrival"
	} > "$TMP/spool/new/$arrival.000000.1_1.$name"
	chown -R "$CRM_USER" "$TMP/spool"
}
# one logged 10 minutes ago, one 2 hours ago, one 3 days ago, one skipped a minute ago
spoolfile M1 $((NOW - 600)) dave@acme.com alice@example.com "hour"
spoolfile M2 $((NOW - 7200)) erin@acme.com alice@example.com "day"
spoolfile M3 $((NOW - 259200)) frank@acme.com alice@example.com "older"
spoolfile S1 $((NOW - 60)) alice@example.com bob@example.com "lunch"
# and M3 again, 5 minutes ago: a message counts on the day of its first copy
spoolfile M3b $((NOW - 300)) frank@acme.com alice@example.com "older" M3

crm_start "$TMP/c.conf" "$TMP/log" || { notok "crmilter starts"; sed 's/^/# /' "$TMP/log"; exit 1; }
spool_empty() { [ -z "$(ls -A "$TMP/spool/new" 2> /dev/null)" ]; }
i=0; while ! spool_empty && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "crmilter ingests the five spool files" spool_empty

# ---- OK ----
status
check_line1 "all well: OK, exit 0, with performance data" 0 \
	'^CRMILTER OK - crmilter running, 0 waiting, 0 failed, lag 0 s \| waiting=0 failed=0 lag=0s;300;1800 logged_hour=1 skipped_hour=1 store=[0-9]+B$'
check_grep "crmilter is running, with its pid" "^crmilter:   running, pid $CRM_PID (pid file $TMP/run/crmilter.pid)$" "$TMP/st"
check_grep "the last hour counts by arrival: 1 logged, 1 skipped" "^last hour:  1 logged, 1 skipped$" "$TMP/st"
check_grep "the last day: 2 logged, 1 skipped" "^last day:   2 logged, 1 skipped$" "$TMP/st"
check_grep "the totals" "^total:      3 logged, 1 skipped, " "$TMP/st"
check_grep "skipped messages by reason" "^skipped:    internal only 1$" "$TMP/st"
check_grep "when crmilter last received mail" "^last mail:  $(date -u -d @$((NOW - 60)) '+%Y-%m-%d %H:%M:%S') UTC" "$TMP/st"
check_grep "the store's size and schema version" "^store:      $TMP/store/crm.db, [1-9][0-9]* bytes, schema version [0-9]" "$TMP/st"

status --json
check_equal "--json: state, exit, running, pid, counts by the hour and day" \
	"OK 0 True $CRM_PID 1 1 2 1 3 1 0 1" \
	"$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["store"]
print(d["state"], d["exit"], d["crmilter"]["running"], d["crmilter"]["pid"], s["logged_hour"],
      s["skipped_hour"], s["logged_day"], s["skipped_day"], s["logged"], s["skipped"],
      d["spool"]["waiting"], s["skipped_by_reason"]["internal only"])' "$TMP/st" 2>&1)"
check_equal "--json exits like the plain output" 0 "$RC"

# ---- spool backing up: the worker stopped, a message waiting 20 minutes ----
kill -STOP "$CRM_PID"
spoolfile W1 $((NOW - 1200)) gina@acme.com alice@example.com "waiting"
touch -d @$((NOW - 1200)) "$TMP/spool/new/"*W1
status
check_line1 "a message waiting 20 minutes: WARNING, exit 1" 1 \
	'^CRMILTER WARNING - spool backing up: 1 message waiting, the oldest for 20 min \(warning at 5 min\) \| waiting=1 failed=0 lag=12[0-9][0-9]s;300;1800 '
check_grep "the lag line gives the age and the thresholds" \
	"^lag:        20 min (the oldest message waiting; warning at 5 min, critical at 30 min)$" "$TMP/st"
status --crit-age 15m
check_line1 "past --crit-age: CRITICAL, exit 2" 2 \
	'^CRMILTER CRITICAL - spool backing up: 1 message waiting, the oldest for 20 min \(critical at 15 min\) \| .*lag=12[0-9][0-9]s;300;900 '
status --warn-age 1h --crit-age 2h
check_line1 "under --warn-age: OK, exit 0" 0 '^CRMILTER OK - crmilter running, 1 waiting, 0 failed, lag 20 min \|'
status --json
check_equal "--json: the lag in seconds and the problem" "WARNING 1 True" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["state"], d["spool"]["waiting"], 1200 <= d["lag"] < 1300 and d["problems"][0]["state"] == "WARNING")' "$TMP/st" 2>&1)"
kill -CONT "$CRM_PID"
i=0; while ! spool_empty && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
status
check_line1 "the worker drains it: OK again, 2 logged in the last day" 0 '^CRMILTER OK - .*lag 0 s'
check_grep "the drained message counts by its arrival, 20 minutes ago" "^last hour:  2 logged, 1 skipped$" "$TMP/st"

# ---- failed files ----
printf 'this is not a spool file\n' > "$TMP/spool/new/$NOW.000000.1_1.BAD"
chown "$CRM_USER" "$TMP/spool/new/$NOW.000000.1_1.BAD"
i=0; while [ ! -e "$TMP/spool/failed/$NOW.000000.1_1.BAD" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
status
check_line1 "a message in failed/: WARNING, exit 1" 1 \
	'^CRMILTER WARNING - 1 message in failed/ \(crmctl spool status; crmctl spool retry\) \| waiting=0 failed=1 '
check_grep "the spool line counts it" "^spool:      0 waiting (0 bytes), 1 failed, 0 being received in $TMP/spool$" "$TMP/st"
rm -f "$TMP/spool/failed/"*
status
check_equal "failed/ emptied: OK, exit 0" 0 "$RC"

# ---- something unreadable while crmilter runs: UNKNOWN ----
sed "s#^SpoolDirectory .*#SpoolDirectory $TMP/no-spool#" "$TMP/c.conf" > "$TMP/c2.conf"
"$CRMCTL" -c "$TMP/c2.conf" status > "$TMP/st" 2>&1
RC=$?; LINE1=$(head -1 "$TMP/st")
check_line1 "a spool that cannot be read: UNKNOWN, exit 3" 3 \
	"^CRMILTER UNKNOWN - spool $TMP/no-spool: No such file or directory \\| logged_hour=2 skipped_hour=1 "

# ---- crmilter down ----
crm_stop
status
check_line1 "crmilter stopped: CRITICAL, exit 2" 2 \
	"^CRMILTER CRITICAL - crmilter is not running \\(no pid file $TMP/run/crmilter.pid\\) \\| waiting=0 failed=0 "
check_grep "the daemon line says so" "^crmilter:   not running$" "$TMP/st"
echo $$ > "$TMP/run/crmilter.pid"
status
check_line1 "a pid file naming another program: CRITICAL" 2 \
	"^CRMILTER CRITICAL - crmilter is not running \\(pid file $TMP/run/crmilter.pid names $$, which is not crmilter\\)"
rm -f "$TMP/run/crmilter.pid"
printf 'x\n' > "$TMP/spool/failed/$NOW.000000.1_1.BAD2"
status
check_line1 "down and a failed message: CRITICAL names both" 2 \
	'^CRMILTER CRITICAL - crmilter is not running .*; 1 message in failed/ '
