#!/usr/bin/env bash
# T110-milter-miltertest.sh - crmilter's milter protocol side, driven by
# Debian's miltertest (tests/milter/*.lua): negotiation, several
# transactions per connection, abort, early close, missing macros, 8-bit and
# huge headers, Bcc through RCPT, direction by authentication, daemon name
# and client address, truncation; then the store going missing, headers-only
# mail when the spool is over MaxSpoolSize, reload by SIGHUP.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v miltertest > /dev/null || ! command -v sqlite3 > /dev/null ||
	[ ! -x "$CRM_BUILD/crmilter" ]; then
	skip "miltertest scripts" "needs root, miltertest, sqlite3 and crmilter"
	exit 0
fi
cleanup() {
	crm_stop KILL
	rm -rf "$TMP"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap "crm_stop KILL" EXIT

crm_user
chmod 711 "$TMP"
mkdir -p "$TMP/run" "$TMP/store"
chown "$CRM_USER" "$TMP/run" "$TMP/store"
SOCK=$TMP/run/crmilter.sock
LUA=$CRM_TOP/tests/milter
DB=$TMP/store/crm.db
LOG=$TMP/crmilter.log
write_conf "$TMP/crmilter.conf" \
	Socket "unix:$SOCK" \
	SpoolDirectory "$TMP/spool" \
	PidFile "$TMP/run/crmilter.pid" \
	InternalHosts "10.0.0.0/8, 2001:db8::/32" \
	MaxMessageSize 100k
sed -i "s#^Database .*#Database $DB#" "$TMP/crmilter.conf"

q() { sqlite3 -readonly -cmd ".timeout 10000" "$DB" "$1" 2> /dev/null; }
mt_run() { miltertest -D sock="unix:$SOCK" -D lib="$LUA/lib.lua" -s "$LUA/$1"; }
wait_spool_empty() {
	local i=0
	while [ -n "$(ls -A "$1/new" 2> /dev/null)" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	[ -z "$(ls -A "$1/new" 2> /dev/null)" ]
}
# msg ID COLUMN - one column of the message with that Message-ID
msg() { q "select $2 from messages where msgid = '$1'"; }
# rcpts ID - its envelope recipients, sorted, on one line
rcpts() {
	q "select address from participants p join messages m on m.id = p.message_id
	   where m.msgid = '$1' and p.role = 'envelope-rcpt' order by address" | tr '\n' ' ' | sed 's/ $//'
}
# src ID COLUMN - a column of its milter source row
src() { q "select $2 from message_sources s join messages m on m.id = s.message_id where m.msgid = '$1'"; }

check "crmilter starts" crm_start "$TMP/crmilter.conf" "$LOG" -v
for s in negotiate multi close macros headers bcc direction huge; do
	check "miltertest $s.lua" mt_run "$s.lua"
done
check "the worker ingests everything" wait_spool_empty "$TMP/spool"

check_equal "multi: the three ended transactions are stored, the aborted ones are not" \
	"multi-1@acme.com multi-3@acme.com multi-5@acme.com" \
	"$(q "select msgid from messages where msgid like 'multi-%' order by msgid" | tr '\n' ' ' | sed 's/ $//')"
check_equal "multi: each keeps its own queue id" "MULTI1 MULTI3 MULTI5" \
	"$(q "select queue_id from message_sources where queue_id like 'MULTI%' order by queue_id" | tr '\n' ' ' | sed 's/ $//')"
check_equal "multi: each keeps its own recipients" "alice@example.com bob@example.com" "$(rcpts multi-3@acme.com)"
check_equal "close: the message cut off by a quit is not stored" "" "$(msg close-2@acme.com id)"
check_equal "close: the connection after the early closes is served" "inbound" "$(msg close-4@acme.com direction)"
check_equal "macros: a message without any macro is stored" "inbound" "$(msg nomacro-1@acme.com direction)"
check_equal "macros: without a queue id none is invented" "" "$(src nomacro-1@acme.com queue_id)"
check_grep "macros: the log says NOQUEUE" "^crmilter: NOQUEUE: message-id=<nomacro-1@acme.com>" "$LOG"
check_equal "headers: the 8-bit subject is kept" "Grüße aus Köln" "$(msg hdr-1@acme.com subject)"
check_equal "headers: a 540 KB header block is kept: references make the thread" \
	"$(msg hdr-1@acme.com thread_id)" \
	"$(q "select thread_id from message_ids where msgid = 'ref-39@acme.com'")"
check_equal "bcc: every RCPT TO is kept once, normalised" \
	"alice@example.com sales-team@example.com secret@example.com" \
	"$(rcpts bcc-1@acme.com | tr 'A-Z ' 'a-z\n' | sort | tr '\n' ' ' | sed 's/ $//')"
check_equal "bcc: the To header holds only alice" "alice@example.com" \
	"$(q "select address from participants p join messages m on m.id = p.message_id
	      where m.msgid = 'bcc-1@acme.com' and p.role = 'to'")"
check_equal "direction: authenticated client is outbound" outbound "$(msg dir-auth@example.com direction)"
check_equal "direction: the authenticated user is kept" alice "$(src dir-auth@example.com auth_authen)"
check_equal "direction: daemon name ORIGINATING is outbound" outbound "$(msg dir-daemon@example.com direction)"
check_equal "direction: the daemon name is kept" ORIGINATING "$(src dir-daemon@example.com daemon_name)"
check_equal "direction: a client in InternalHosts is outbound" outbound "$(msg dir-host@example.com direction)"
check_equal "direction: an IPv6 client in InternalHosts is outbound" outbound "$(msg dir-host6@example.com direction)"
check_equal "direction: the client address and name are kept" "10.1.2.3|client.example.net" \
	"$(src dir-host@example.com "client_addr || '|' || client_name")"
check_equal "direction: external client, external sender is inbound" inbound "$(msg dir-in@acme.com direction)"
check_equal "direction: only own-domain participants is internal" internal "$(msg dir-int@example.com direction)"
check_equal "huge: a message over MaxMessageSize is flagged truncated" 8 \
	"$(( $(msg huge-1@acme.com flags) & 8 ))"
check "huge: the message stored is cut at MaxMessageSize" test "$(msg huge-1@acme.com size)" -le 102400
check_grep "huge: the truncation is logged" "HUGE1: message of [0-9]* bytes spooled truncated" "$LOG"
check_equal "arrival time is kept" 1 \
	"$(q "select count(*) from message_sources where queue_id = 'MULTI1' and arrival > 1600000000")"
check_equal "nothing failed" 0 "$(ls "$TMP/spool/failed" | wc -l)"

# ---- the store goes missing; a reload brings it back ----
crm_stop TERM
sed -i "s#^Database .*#Database $TMP/later/crm.db#" "$TMP/crmilter.conf"
sed -i "s#^MaxMessageSize .*#MaxMessageSize 2M#" "$TMP/crmilter.conf"
echo "MaxSpoolSize 1k" >> "$TMP/crmilter.conf"
check "crmilter starts without its store" crm_start "$TMP/crmilter.conf" "$LOG" -v
# the socket is up before the store is tried: wait for the start-up line
i=0; while [ "$(grep -c 'started: socket' "$LOG")" -lt 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_grep "the missing store is logged, mail still flows" "store .*later/crm.db.*mail is spooled" "$LOG"
check "miltertest headers.lua with the store missing" mt_run headers.lua
check "miltertest huge.lua with the spool over MaxSpoolSize" mt_run huge.lua
sleep 0.3
check_equal "both messages wait in new/" 2 "$(ls "$TMP/spool/new" | wc -l)"
python3 - "$TMP/spool/new" > "$TMP/raw.out" 2> "$TMP/raw.err" <<'PY'
import os, sys
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    data = open(os.path.join(d, name), "rb").read()
    off = int(data[10:30])
    raw, env = data[31:off], data[off:].decode()
    if b"hdr-1@acme.com" in raw:
        refs = "\r\n ".join("<ref-%d@acme.com>" % i for i in range(1, 41))
        want = ("From: \"J\u00fcrgen M\u00fcller\" <dave@acme.com>\r\nTo: alice@example.com\r\n"
                "Subject: Gr\u00fc\u00dfe aus K\u00f6ln\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
                "Message-ID: <hdr-1@acme.com>\r\nReferences: " + refs + "\r\n"
                "X-Folded: first\r\n\tsecond\r\nX-Tight: value\r\n" +
                "".join("X-Trace: %03d %s\r\n" % (i, "x" * 900) for i in range(1, 601)) + "\r\n"
                "Line one\r\nLine two \u20ac\r\n").encode()
        print("headers-exact" if raw == want else "headers-differ")
        print("env-ok" if "queue-id HDR1\n" in env and "rcpt alice@example.com\n" in env
              and "client-addr 198.51.100.7\n" in env and "truncated 0\n" in env else "env-bad")
    elif b"huge-1@acme.com" in raw:
        print("huge-headers-only" if "headers-only 1\n" in env and raw.endswith(b"\r\n\r\n")
              and len(raw) < 1000 else "huge-not-headers-only")
PY
check_equal "the spool keeps the message byte for byte and its envelope" \
	"env-ok headers-exact huge-headers-only" "$(sort "$TMP/raw.out" | tr '\n' ' ' | sed 's/ $//')"
check_grep "over MaxSpoolSize a warning is logged" "over MaxSpoolSize 1024: new messages are logged headers-only" "$LOG"
printf 'Domains example.com\nFrobnicate yes\n' >> "$TMP/crmilter.conf"
kill -HUP "$CRM_PID"
sleep 0.5
check_grep "a bad file at reload is named with its line" \
	"crmilter.conf:[0-9]*: unknown key: Frobnicate yes$" "$LOG"
check_grep "... and the old one kept" \
	"crmilter.conf: not reloaded: keeping the configuration and rules in use$" "$LOG"
check "the daemon still serves after a bad reload" mt_run macros.lua
sed -i '/^Frobnicate/d; /^MaxSpoolSize/d' "$TMP/crmilter.conf"
mkdir -p "$TMP/later"
chown "$CRM_USER" "$TMP/later"
kill -HUP "$CRM_PID"
check "after SIGHUP the store is found and the spool drains" wait_spool_empty "$TMP/spool"
check_grep "the reload is logged" "configuration reloaded from $TMP/crmilter.conf" "$LOG"
DB=$TMP/later/crm.db
check_equal "the spooled messages are in the store" "hdr-1@acme.com huge-1@acme.com nomacro-1@acme.com" \
	"$(q "select msgid from messages order by msgid" | tr '\n' ' ' | sed 's/ $//')"
check_equal "the headers-only message is flagged truncated" 8 "$(( $(msg huge-1@acme.com flags) & 8 ))"
crm_stop TERM
check_grep "SIGTERM stops crmilter" '^crmilter: stopped$' "$LOG"
