#!/usr/bin/env bash
# S130-milter-sendmail.sh - crmilter behind a real Sendmail, configured with
# the lines of contrib/sendmail/crmilter.mc: every message stored once with
# the right direction and envelope, and mail passes while crmilter is down
#
# Debian's Sendmail conflicts with Postfix, so the binary and cf macros come
# unpacked from the packages (build-aux/sendmail-fetch.sh, run by make deps)
# and run as a private daemon: its own .cf built with m4, queue and pid
# file under $TMP, two loopback listeners (an MTA port, and a submission
# port named ORIGINATING as INSTALL.md says), relaying everything to
# smtp-sink.  The socket lives under /run: Sendmail refuses a socket whose
# path crosses a world-writable directory such as /tmp.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

SMDIR=${CRM_SENDMAIL_DIR:-/var/cache/crmilter-test/sendmail}
SENDMAIL=$SMDIR/usr/libexec/sendmail/sendmail
if [ "$(id -u)" -ne 0 ] || [ ! -x "$SENDMAIL" ] || ! command -v m4 > /dev/null ||
	! command -v smtp-sink > /dev/null || ! command -v sqlite3 > /dev/null ||
	! command -v swaks > /dev/null || [ ! -x "$CRM_BUILD/crmilter" ] ||
	! ldd "$SENDMAIL" > /dev/null 2>&1 || ldd "$SENDMAIL" | grep -q 'not found'; then
	skip "Sendmail end-to-end" "needs root, m4, libwrap0, swaks, smtp-sink, sqlite3, crmilter and" \
		"Sendmail unpacked by build-aux/sendmail-fetch.sh"
	exit 0
fi

RUN=$(mktemp -d /run/crmtest-sm.XXXXXX)
SM_PID=
cleanup() {
	[ -n "$SM_PID" ] && kill "$SM_PID" 2> /dev/null
	crm_stop KILL
	sink_stop
	rm -rf "$TMP" "$RUN"
}
trap cleanup EXIT

crm_user
chmod 711 "$TMP"
chmod 755 "$RUN"
chown "$CRM_USER" "$RUN"
mkdir -p "$TMP/store" "$TMP/mqueue"
chmod 700 "$TMP/mqueue"
chown "$CRM_USER" "$TMP/store"
MTA=$(free_port); SUB=$(free_port); SINK=$(free_port)
DB=$TMP/store/crm.db
LOG=$TMP/crmilter.log
write_conf "$TMP/crmilter.conf" \
	Socket "local:$RUN/crmilter.sock" \
	SpoolDirectory "$TMP/spool" \
	PidFile "$RUN/crmilter.pid" \
	InternalHosts 192.0.2.0/24
sed -i "s#^Database .*#Database $DB#" "$TMP/crmilter.conf"
q() { sqlite3 -readonly -cmd ".timeout 10000" -separator ' ' "$DB" "$1" 2> /dev/null; }

# the private instance, then the shipped crmilter lines with our socket
cat > "$TMP/test.mc" <<EOF
divert(-1)
divert(0)dnl
include(\`$SMDIR/usr/share/sendmail/cf/m4/cf.m4')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.example.com')dnl
define(\`QUEUE_DIR', \`$TMP/mqueue')dnl
define(\`confPID_FILE', \`$TMP/sendmail.pid')dnl
define(\`STATUS_FILE', \`$TMP/statistics')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confSERVICE_SWITCH_FILE', \`$TMP/service.switch')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINK')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SINK')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`promiscuous_relay')dnl
DAEMON_OPTIONS(\`Port=$MTA, Addr=127.0.0.1, Name=MTA')dnl
DAEMON_OPTIONS(\`Port=$SUB, Addr=127.0.0.1, Name=ORIGINATING')dnl
EOF
sed "s#local:/run/crmilter/crmilter.sock#local:$RUN/crmilter.sock#" \
	"$CRM_TOP/contrib/sendmail/crmilter.mc" >> "$TMP/test.mc"
echo "MAILER(\`smtp')dnl" >> "$TMP/test.mc"
echo "hosts files" > "$TMP/service.switch"
check "contrib/sendmail/crmilter.mc names crmilter's socket" \
	grep -q "S=local:$RUN/crmilter.sock" "$TMP/test.mc"
m4 "$TMP/test.mc" > "$TMP/test.cf" 2> "$TMP/m4.err"
check_grep "the .cf has the crmilter filter (Xcrmilter)" "^Xcrmilter, S=local:$RUN/crmilter.sock" \
	"$TMP/test.cf"

sink_start "$TMP/sink" "$SINK"
check "crmilter starts on a local: socket" crm_start "$TMP/crmilter.conf" "$LOG" -v
# In its own session: the daemon signals its process group as it detaches.
# Where the host name is not qualified and DNS cannot qualify it (this test
# machine), Sendmail sleeps a minute before it listens: hence a slow test.
setsid "$SENDMAIL" -C "$TMP/test.cf" -bd -q10s > "$TMP/sendmail.out" 2>&1 < /dev/null
for _ in $(seq 900); do [ -s "$TMP/sendmail.pid" ] && break; sleep 0.1; done
SM_PID=$(head -1 "$TMP/sendmail.pid" 2> /dev/null)
check "the private Sendmail starts" test -n "$SM_PID" -a -d "/proc/${SM_PID:-none}"

# sm PORT FROM TO[,TO...] ID [swaks options] - one message through Sendmail
sm() {
	local port=$1 from=$2 to=$3 id=$4; shift 4
	swaks --server "127.0.0.1:$port" --from "$from" --to "$to" --header "Message-Id: <$id>" \
		--header "Subject: sendmail $id" --header "To: <${to%%,*}>" "$@" > "$TMP/$id.swaks" 2>&1
}
# delivered ID - smtp-sink has the message
delivered() { grep -l -q -i "^Message-ID: <$1>" "$TMP/sink"/* 2> /dev/null; }
# wait_logged ID - crmilter's worker has stored the message
wait_logged() {
	local i=0
	while [ -z "$(q "select 1 from messages where msgid = '$1'")" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
}

for i in 1 2 3; do
	sm "$MTA" "dave@acme.com" "alice@example.com" "in-$i@test.example"
	sm "$SUB" "alice@example.com" "dave@acme.com" "out-$i@test.example"
done
# a Bcc: in the envelope only
sm "$MTA" "erin@globex.com" "alice@example.com,bob@example.com" "bcc-1@test.example"
for id in in-1 in-2 in-3 out-1 out-2 out-3 bcc-1; do wait_logged "$id@test.example"; done

check_equal "every message is stored once, with its direction" \
	"bcc-1@test.example inbound
in-1@test.example inbound
in-2@test.example inbound
in-3@test.example inbound
out-1@test.example outbound
out-2@test.example outbound
out-3@test.example outbound" \
	"$(q "select msgid, direction from messages order by msgid")"
check_equal "the Bcc recipient comes from RCPT TO" "alice@example.com bob@example.com" \
	"$(q "select group_concat(address, ' ') from (select p.address from participants p join messages m
	      on m.id = p.message_id where m.msgid = 'bcc-1@test.example' and p.role = 'envelope-rcpt'
	      order by p.address)")"
check_equal "Sendmail's queue id and daemon name reach the store" "ORIGINATING 1" \
	"$(q "select s.daemon_name, length(s.queue_id) > 5 from message_sources s join messages m
	      on m.id = s.message_id where m.msgid = 'out-1@test.example'")"
n=0
for _ in $(seq 100); do
	n=0
	for id in in-1 in-2 in-3 out-1 out-2 out-3 bcc-1; do delivered "$id@test.example" && n=$((n + 1)); done
	[ "$n" -eq 7 ] && break
	sleep 0.2
done
check_equal "Sendmail delivered all 7 messages to the next hop" 7 "$n"

# crmilter down: no F= flag, so Sendmail passes the mail on untouched
crm_stop
sm "$MTA" "dave@acme.com" "alice@example.com" "down-1@test.example"
check_grep "with crmilter stopped, Sendmail still accepts the message" "^<-  250 2.0.0 .* Message accepted" \
	"$TMP/down-1@test.example.swaks"
for _ in $(seq 100); do delivered "down-1@test.example" && break; sleep 0.2; done
check "... and delivers it" delivered "down-1@test.example"
