#!/usr/bin/env bash
# T100-milter-daemon.sh - crmilter as a daemon: options, configuration
# errors, privileges, socket specifications, pid file, background mode,
# and the spool's failed/ area with crmctl spool status and retry
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

CRMILTER=$CRM_BUILD/crmilter
if [ ! -x "$CRMILTER" ]; then
	skip "crmilter daemon" "crmilter is not built"
	exit 0
fi
cleanup() {
	crm_stop KILL
	[ -f "$TMP/run/bg.pid" ] && kill -KILL "$(cat "$TMP/run/bg.pid")" 2> /dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

check "crmilter -V prints the version" sh -c "'$CRMILTER' -V | grep -q '^crmilter [0-9]'"
check "crmilter --help names the options" sh -c "'$CRMILTER' --help | grep -q -- '-p SOCKET'"
"$CRMILTER" -x > /dev/null 2>&1
check_equal "an unknown option exits 2" 2 $?
"$CRMILTER" -c "$TMP/none.conf" -f > /dev/null 2> "$TMP/err"
check_equal "a missing -c file exits 2" 2 $?
check_grep "a missing -c file is named" "none.conf: No such file or directory" "$TMP/err"
printf 'Domains example.com\nSocket unix:/x\nSocket unix:/y\n' > "$TMP/bad.conf"
"$CRMILTER" -c "$TMP/bad.conf" -f > /dev/null 2> "$TMP/err"
check_equal "a bad configuration exits 2" 2 $?
check_equal "the error names file and line" \
	"crmilter: $TMP/bad.conf:3: key given twice: Socket unix:/y" "$(cat "$TMP/err")"
printf 'Domains example.com\n\nInternalHosts 10.0.0.0/8 10.300.0.0/16\n' > "$TMP/bad.conf"
"$CRMILTER" -c "$TMP/bad.conf" -f > /dev/null 2> "$TMP/err"
check_equal "a bad InternalHosts range names file and line" \
	"crmilter: $TMP/bad.conf:3: not an address or CIDR range: 10.300.0.0/16" "$(cat "$TMP/err")"

if [ "$(id -u)" -ne 0 ]; then
	skip "privileges and sockets" "needs root"
	exit 0
fi
crm_user
chmod 711 "$TMP"
mkdir -p "$TMP/run" "$TMP/store"
chown "$CRM_USER" "$TMP/run" "$TMP/store"
write_conf "$TMP/c.conf" SpoolDirectory "$TMP/spool" PidFile "$TMP/run/crmilter.pid"
sed -i "s#^Database .*#Database $TMP/store/crm.db#" "$TMP/c.conf"

"$CRMILTER" -c "$TMP/c.conf" -f -u root -p "unix:$TMP/run/s" > /dev/null 2> "$TMP/err"
check_equal "-u root is refused" 1 $?
check_grep "refusing root says why" "UserID root is root: crmilter refuses to run as root" "$TMP/err"
"$CRMILTER" -c "$TMP/c.conf" -f -u no-such-user-here -p "unix:$TMP/run/s" > /dev/null 2> "$TMP/err"
check_equal "an unknown user is refused" 1 $?
check_grep "the unknown user is named" "UserID no-such-user-here: no such user" "$TMP/err"
"$CRMILTER" -c "$TMP/c.conf" -f -p "bogus:1@x" > /dev/null 2> "$TMP/err"
check_equal "a bad socket specification is refused" 1 $?

# mt_plain SPEC - one message through SPEC with miltertest
mt_plain() {
	miltertest -D sock="$1" -D lib="$CRM_TOP/tests/milter/lib.lua" -s "$CRM_TOP/tests/milter/macros.lua"
}
if command -v miltertest > /dev/null; then
	PORT=$(free_port)
	crm_start "$TMP/c.conf" "$TMP/log" -p "inet:$PORT@127.0.0.1"
	sleep 0.3
	check "an inet:PORT@127.0.0.1 socket serves" mt_plain "inet:$PORT@127.0.0.1"
	crm_stop
	crm_start "$TMP/c.conf" "$TMP/log" -p "local:$TMP/run/l.sock"
	sleep 0.3
	check "a local:/path socket serves" mt_plain "local:$TMP/run/l.sock"
	check_equal "the unix socket is the service user's, mode 0660" "$CRM_USER 660" \
		"$(stat -c '%U %a' "$TMP/run/l.sock")"
	check_equal "the pid file names the daemon" "$CRM_PID" "$(cat "$TMP/run/crmilter.pid")"
	idle=$(for t in /proc/"$CRM_PID"/task/*; do chrt -p "${t##*/}"; done 2> /dev/null |
		grep -c 'policy: SCHED_IDLE')
	check_equal "one thread, the ingest worker, runs at idle priority" 1 "$idle"
	crm_stop
	check "the pid file is removed at exit" test ! -e "$TMP/run/crmilter.pid"
	check "the unix socket is removed at exit" test ! -e "$TMP/run/l.sock"
	if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2> /dev/null; then
		PORT=$(free_port)
		crm_start "$TMP/c.conf" "$TMP/log" -p "inet6:$PORT@[::1]"
		sleep 0.3
		# (miltertest speaks IPv4 only: check that the port takes connections)
		check "an inet6:PORT@[::1] socket listens" python3 -c \
			"import socket; socket.create_connection(('::1', $PORT), 5).close()"
		crm_stop
	else
		skip "an inet6 socket serves" "no IPv6 loopback"
	fi
else
	skip "socket specifications" "needs miltertest"
fi

# background mode: detaches, writes the pid file, drops privileges, stops on SIGTERM
"$CRMILTER" -c "$TMP/c.conf" -u "$CRM_USER" -p "unix:$TMP/run/bg.sock" -P "$TMP/run/bg.pid"
check_equal "in the background the command returns at once" 0 $?
i=0; while [ ! -s "$TMP/run/bg.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
bgpid=$(cat "$TMP/run/bg.pid" 2> /dev/null)
# the pid file is written as root, before the privileges go: wait for that
# (a slow start, as under ASan, took longer than the file)
uid_of() { awk '/^Uid:/ {print $2}' "/proc/$1/status" 2> /dev/null; }
i=0; while [ "$(uid_of "$bgpid")" = 0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_equal "the background daemon runs as $CRM_USER" "$(id -u "$CRM_USER")" "$(uid_of "$bgpid")"
# ...and is ready (its socket there) before it is asked to stop
i=0; while [ ! -S "$TMP/run/bg.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM "$bgpid"
i=0; while kill -0 "$bgpid" 2> /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "SIGTERM stops the background daemon" test ! -d "/proc/$bgpid"
check "and it leaves no pid file and no socket" test ! -e "$TMP/run/bg.pid" -a ! -e "$TMP/run/bg.sock"
rm -f "$TMP/run/bg.pid"
# a socket and a pid file that are no longer its own (a crmilter started since) stay
"$CRMILTER" -c "$TMP/c.conf" -u "$CRM_USER" -p "unix:$TMP/run/bg.sock" -P "$TMP/run/bg.pid"
i=0; while [ ! -s "$TMP/run/bg.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
bgpid=$(cat "$TMP/run/bg.pid" 2> /dev/null)
rm -f "$TMP/run/bg.sock"
python3 -c "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$TMP/run/bg.sock"
echo 999999 > "$TMP/run/bg.pid"
kill -TERM "$bgpid"
i=0; while kill -0 "$bgpid" 2> /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "a socket made since by another process stays" test -S "$TMP/run/bg.sock"
check_equal "a pid file naming another process stays" 999999 "$(cat "$TMP/run/bg.pid" 2> /dev/null)"
rm -f "$TMP/run/bg.pid" "$TMP/run/bg.sock"

# a spool file that is not one goes to failed/ with a reason; crmctl shows and retries it
if "$CRMCTL" spool --help > /dev/null 2>&1; then
	mkdir -p "$TMP/spool/new"
	printf 'this is not a spool file\n' > "$TMP/spool/new/0000000001.000000.1_1.BAD"
	# a valid spool file written by hand, parked in failed/
	body=$'From: dave@acme.com\r\nTo: alice@example.com\r\nSubject: retried\r\nMessage-ID: <retry-1@acme.com>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nHello\r\n'
	off=$((31 + ${#body}))
	{
		printf 'CRMSPOOL1 %020d\n' "$off"
		printf '%s' "$body"
		printf 'queue-id RETRY1\nmail-from dave@acme.com\nrcpt alice@example.com\narrival 1704103200\noriginated 0\n'
	} > "$TMP/spool/failed/0000000002.000000.1_2.RETRY1"
	echo "store was down" > "$TMP/spool/failed/0000000002.000000.1_2.RETRY1.reason"
	chown -R "$CRM_USER" "$TMP/spool"
	crm_start "$TMP/c.conf" "$TMP/log" -p "unix:$TMP/run/s.sock"
	i=0; while [ -e "$TMP/spool/new/0000000001.000000.1_1.BAD" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	check "a file that is not a spool file moves to failed/" test -e "$TMP/spool/failed/0000000001.000000.1_1.BAD"
	check_grep "its reason is kept beside it" "not a crmilter spool file" \
		"$TMP/spool/failed/0000000001.000000.1_1.BAD.reason"
	"$CRMCTL" -c "$TMP/c.conf" spool status > "$TMP/status" 2>&1
	check_grep "crmctl spool status counts failed/" "^failed *2 messages" "$TMP/status"
	check_grep "crmctl spool status gives each reason" "failed/0000000002.000000.1_2.RETRY1: store was down" "$TMP/status"
	check "crmctl spool status --json is JSON" sh -c "'$CRMCTL' -c '$TMP/c.conf' spool status --json | python3 -m json.tool"
	check_equal "crmctl spool retry NAME moves one back" "moved 1 message back to new/" \
		"$("$CRMCTL" -c "$TMP/c.conf" spool retry failed/0000000002.000000.1_2.RETRY1)"
	i=0; while [ -n "$(ls -A "$TMP/spool/new")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	check_equal "the retried message is ingested by the running daemon" "retried" \
		"$(sqlite3 -readonly "$TMP/store/crm.db" "select subject from messages where msgid = 'retry-1@acme.com'")"
	check_grep "its queue id is logged" "RETRY1: message-id=<retry-1@acme.com> direction=inbound logged" "$TMP/log"
	"$CRMCTL" -c "$TMP/c.conf" spool retry failed/nothing-here > /dev/null 2>&1
	check_equal "retrying a missing name exits 1" 1 $?
	crm_stop
else
	skip "crmctl spool" "crmctl is built without cmd_spool (Makefile: link milter/spool.o)"
fi
