# faults.sh - the set-up and checks shared by the fault, load and security
# tests (T3NN-*.sh, S4NN-*.sh): a private Postfix relaying to smtp-sink, and
# crmilter on a unix socket, as in T120 (sourced after test-lib.sh; bash)
#
#   fault_requirements           skip the whole test unless root, postfix,
#                                smtp-sink, python3, sqlite3 and crmilter are here
#   fault_setup [KEY VALUE]...   start sink, crmilter and Postfix; extra
#                                crmilter.conf lines.  STORE_DIR and SPOOL_DIR
#                                may be set before (e.g. to a tmpfs)
#   fault_stop                   stop everything (also run at exit)
#   send PREFIX COUNT [ARGS]     send.py to the port-25 smtpd; Message-IDs sent
#                                go to $TMP/PREFIX.sent
#   q SQL                        a read-only query of the store
#   wait_spool_empty SECONDS     the worker has ingested everything in new/
#   wait_for SECONDS CMD...      poll until CMD succeeds
#   store_lock TAG / store_unlock TAG   another writer holds the store
#                                exclusively from store_lock (which returns
#                                once it does) until store_unlock
#   check_delivered PREFIX       Postfix delivered every message sent, once
#   check_stored_once PREFIX [ACCEPTED_FILE]   every accepted message (default:
#                                every one sent) is in the store exactly once
. "$CRM_TOP/tests/milter/postfix.sh"

STORE_DIR=${STORE_DIR:-}
SPOOL_DIR=${SPOOL_DIR:-}
MOUNTS=""

fault_requirements() {
	if [ "$(id -u)" -ne 0 ] || ! command -v postfix > /dev/null || ! command -v smtp-sink > /dev/null ||
		! command -v python3 > /dev/null || ! command -v sqlite3 > /dev/null ||
		[ ! -x "$CRM_BUILD/crmilter" ]; then
		skip "$1" "needs root, postfix, smtp-sink, python3, sqlite3 and crmilter"
		exit 0
	fi
}

fault_stop() {
	[ -n "${PF:-}" ] && pf_stop "$PF"
	if [ -n "$CRM_PID" ]; then
		kill -CONT "$CRM_PID" 2> /dev/null
		crm_stop KILL
	fi
	sink_stop
	local m
	for m in $MOUNTS; do umount -l "$m" 2> /dev/null; done
	MOUNTS=""
}

# fault_mount DIR SIZE - a tmpfs of SIZE at DIR, unmounted at exit
fault_mount() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" || return 1
	MOUNTS="$MOUNTS $1"
}

fault_setup() {
	trap 'fault_stop; rm -rf "$TMP"' EXIT
	crm_user
	chmod 711 "$TMP"
	STORE_DIR=${STORE_DIR:-$TMP/store}
	SPOOL_DIR=${SPOOL_DIR:-$TMP/spool}
	mkdir -p "$TMP/run" "$STORE_DIR"
	chgrp postfix "$TMP/run"
	chmod 750 "$TMP/run"
	chown "$CRM_USER" "$STORE_DIR"
	PF=$TMP/postfix
	SMTP=$(free_port); SUB=$(free_port); SINK=$(free_port)
	SOCK=$TMP/run/crmilter.sock
	DB=$STORE_DIR/crm.db
	LOG=$TMP/crmilter.log
	CONF=$TMP/crmilter.conf
	write_conf "$CONF" Socket "unix:$SOCK" SpoolDirectory "$SPOOL_DIR" \
		PidFile "$TMP/run/crmilter.pid" "$@"
	sed -i "s#^Database .*#Database $DB#" "$CONF"
	pf_setup "$PF" "$SMTP" "$SUB" "$SINK" "unix:$SOCK"
	postconf -c "$PF/etc" -e message_size_limit=52428800 > /dev/null
	sink_start "$TMP/sink" "$SINK"
	crm_start "$CONF" "$LOG" -v || { notok "crmilter starts"; sed 's/^/# /' "$LOG"; exit 1; }
	pf_start "$PF" || { notok "Postfix starts"; sed 's/^/# /' "$PF/log/start.out"; exit 1; }
	# the store exists before the faults begin
	wait_for 10 test -s "$DB"
}

# send PREFIX COUNT [send.py options] - send, keep the Message-IDs accepted by Postfix
send() {
	local prefix=$1 count=$2; shift 2
	python3 "$CRM_TOP/tests/milter/send.py" "$SMTP" "$count" "$prefix" --out "$TMP/$prefix.sent" "$@" \
		> "$TMP/$prefix.send.out" 2>&1
}

q() { sqlite3 -readonly -cmd ".timeout 10000" "$DB" "$1" 2> /dev/null; }

wait_for() {
	local limit=$1 i=0; shift
	while ! "$@" > /dev/null 2>&1; do
		[ $i -ge $((limit * 10)) ] && return 1
		sleep 0.1; i=$((i + 1))
	done
}

# store_lock TAG - another writer takes the store exclusively (BEGIN
# EXCLUSIVE) and keeps it until store_unlock TAG; returns once it holds it
store_lock() {
	python3 - "$DB" "$TMP/locked.$1" "$TMP/release.$1" > "$TMP/locker.$1.out" 2>&1 <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
db.execute("COMMIT")
PY
	LOCKER_PID=$!
	wait_for 15 test -e "$TMP/locked.$1"
}
store_unlock() {
	: > "$TMP/release.$1"
	wait "$LOCKER_PID"
}

spool_empty() { [ -z "$(ls -A "$SPOOL_DIR/new" 2> /dev/null)" ]; }
wait_spool_empty() { wait_for "$1" spool_empty; }

# sink_ids PREFIX - Message-IDs of PREFIX that smtp-sink received, one per copy
sink_ids() {
	grep -h -o -i "^Message-ID: <$1-[0-9]*@test.example>" "$TMP/sink"/* 2> /dev/null |
		sed 's/^[^<]*<\(.*\)>$/\1/' | sort
}

check_delivered() {
	local prefix=$1 n
	n=$(wc -l < "$TMP/$prefix.sent")
	if pf_wait_empty "$PF" 120 && sink_ids "$prefix" > "$TMP/$prefix.sink" &&
		diff -q "$TMP/$prefix.sent" "$TMP/$prefix.sink" > /dev/null && [ "$n" -gt 0 ]; then
		ok "$prefix: Postfix delivered all $n messages, each once"
	else
		notok "$prefix: Postfix delivered all $n messages ($(wc -l < "$TMP/$prefix.sink") reached the sink, queue $(pf_queue_count "$PF"))"
		diff "$TMP/$prefix.sent" "$TMP/$prefix.sink" | head -5 | sed 's/^/# /'
		sed 's/^/# /' "$TMP/$prefix.send.out"
	fi
}

check_stored_once() {
	local prefix=$1 accepted=${2:-$TMP/$1.sent} n rows srcs
	n=$(wc -l < "$accepted")
	q "select msgid from messages where msgid like '$prefix-%'" | sort > "$TMP/$prefix.stored"
	rows=$(q "select count(*) from messages where msgid like '$prefix-%'")
	srcs=$(q "select count(*) from message_sources s join messages m on m.id = s.message_id
		  where m.msgid like '$prefix-%' and s.source = 'milter'")
	if [ -z "$(comm -23 "$accepted" "$TMP/$prefix.stored")" ] && [ "$rows" = "$n" ] &&
		[ "$srcs" = "$n" ] && [ "$n" -gt 0 ]; then
		ok "$prefix: all $n accepted messages are in the store exactly once"
	else
		notok "$prefix: all $n accepted messages in the store exactly once (rows $rows, milter sources $srcs)"
		comm -23 "$accepted" "$TMP/$prefix.stored" | head -5 | sed 's/^/# missing: /'
		grep -i 'warn\|error' "$LOG" | tail -5 | sed 's/^/# log: /'
	fi
}

# accepted_ids PREFIX - Message-IDs of PREFIX that crmilter spooled (log -v), sorted
accepted_ids() {
	grep ': spooled ' "$LOG" | sed 's/^crmilter: debug: \([0-9A-F]*\): spooled .*/\1/' | sort -u > "$TMP/spooled.qids"
	grep -h 'status=sent' "$PF/log/maillog" > /dev/null
	# queue id -> Message-ID from Postfix's cleanup lines
	grep -h ': message-id=<' "$PF/log/maillog" |
		sed -n 's/.*: \([0-9A-F]*\): message-id=<\(.*\)>$/\1 \2/p' | sort -u |
		join - "$TMP/spooled.qids" | awk '{print $2}' | grep "^$1-" | sort -u
}
