#!/usr/bin/env bash
# T106-milter-logging.sh - where crmilter's lines go (issue 14, point 6)
#
# LogFile takes every line, the per-message one with its queue id
# included, each with the time, crmilter[PID] and the priority; the file
# is the service user's and is reopened on SIGHUP (after logrotate moved
# it); a LogFile that cannot be opened stops the start (exit 2).  With -s
# (as under systemd) and no syslog daemon on /dev/log, crmilter says on
# stderr that its lines would be lost.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

if [ "$(id -u)" -ne 0 ] || [ ! -x "$CRM_BUILD/crmilter" ]; then
	skip "crmilter logging" "needs root and crmilter"
	exit 0
fi
cleanup() { crm_stop KILL; rm -rf "$TMP"; }
trap cleanup EXIT
crm_user
chmod 711 "$TMP"
mkdir -p "$TMP/store" "$TMP/spool/new" "$TMP/run" "$TMP/log"
write_conf "$TMP/c.conf" SpoolDirectory "$TMP/spool" PidFile "$TMP/run/pid" \
	Socket "unix:$TMP/run/s.sock" LogFile "$TMP/log/crmilter.log"
sed -i "s#^Database .*#Database $TMP/store/crm.db#" "$TMP/c.conf"
chown -R "$CRM_USER" "$TMP/store" "$TMP/spool" "$TMP/run" "$TMP/log"

# put N - a message with queue id QN into the spool, as crmilter's milter side writes it
put() {
	spool_put "$TMP/spool" "$1" "Q$1" $'From: carl@client.example\nTo: alice@example.com\nSubject: Order '"$1"$'\nMessage-ID: <order-'"$1"$'@client.example>\nDate: Tue, 06 May 2025 12:00:00 +0000\n\nPlease ship.\n' \
		carl@client.example alice@example.com
}
# wait_line FILE PATTERN - up to 10 s for a line of FILE to match
wait_line() {
	local i=0
	while ! grep -q -- "$2" "$1" 2> /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	grep -q -- "$2" "$1"
}

check "crmilter starts with a LogFile" crm_start "$TMP/c.conf" "$TMP/stderr"
put 1
check "the message's line is in the LogFile" wait_line "$TMP/log/crmilter.log" 'Q1: message-id=<order-1@client.example>'
pid_re="crmilter\\[$CRM_PID\\]"
check_grep "lines carry the time, crmilter[PID] and the priority" \
	"^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9][-+][0-9]\{4\} $pid_re: info: Q1: message-id=" \
	"$TMP/log/crmilter.log"
check_grep "the start is there too" "$pid_re: info: crmilter .* started: " "$TMP/log/crmilter.log"
check_equal "nothing goes to stderr" "" "$(cat "$TMP/stderr")"
check_equal "the file is the service user's, mode 0640" "$CRM_USER 640" \
	"$(stat -c '%U %a' "$TMP/log/crmilter.log")"

mv "$TMP/log/crmilter.log" "$TMP/log/crmilter.log.1"	# as logrotate does
kill -HUP "$CRM_PID"
check "after SIGHUP a new LogFile is opened" wait_line "$TMP/log/crmilter.log" 'configuration reloaded from'
put 2
check "the next message's line is in the new file" wait_line "$TMP/log/crmilter.log" 'Q2: message-id=<order-2@client.example>'
check_equal "the old file got nothing more" "0" "$(grep -c 'Q2:' "$TMP/log/crmilter.log.1")"
crm_stop TERM

# a LogFile that cannot be opened is a configuration error
sed -i "s#^LogFile .*#LogFile $TMP/no/such/folder/crmilter.log#" "$TMP/c.conf"
"$CRM_BUILD/crmilter" -f -c "$TMP/c.conf" -u "$CRM_USER" > "$TMP/bad.out" 2>&1
check_equal "an unopenable LogFile: exit 2" "2" "$?"
check_grep "and the reason names it" "LogFile $TMP/no/such/folder/crmilter.log: No such file or directory" "$TMP/bad.out"

# -s without a syslog daemon: said on stderr, not lost silently
if [ -S /dev/log ]; then
	skip "no syslog daemon is said on stderr" "a syslog daemon listens on /dev/log here"
else
	sed -i "/^LogFile /d" "$TMP/c.conf"
	rm -f "$TMP/run/s.sock"	# crm_start waits for the socket: not the last run's
	: > "$TMP/stderr"
	check "crmilter -f -s starts" crm_start "$TMP/c.conf" "$TMP/stderr" -s
	check_grep "it says its lines would be lost" \
		"warning: no syslog daemon listens on /dev/log: log lines will be lost; set LogFile" "$TMP/stderr"
	crm_stop TERM
fi
exit 0
