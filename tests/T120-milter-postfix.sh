#!/usr/bin/env bash
# T120-milter-postfix.sh - crmilter behind a real Postfix: every message
# stored once with the right direction and envelope, and nothing lost when
# crmilter is killed with SIGKILL in the middle of a run
#
# A private Postfix on loopback (own config, queue and data directories,
# chroot off) relays to smtp-sink; crmilter listens on a unix socket.  Mail
# comes in on a "port 25" smtpd (inbound) and on a submission smtpd that
# sets {daemon_name}=ORIGINATING (outbound), from smtp-source and swaks.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v postfix > /dev/null || ! command -v smtp-source > /dev/null ||
	! command -v swaks > /dev/null || ! command -v sqlite3 > /dev/null || [ ! -x "$CRM_BUILD/crmilter" ]; then
	skip "Postfix end-to-end" "needs root, postfix, smtp-source, swaks, sqlite3 and crmilter"
	exit 0
fi

PF=$TMP/postfix
cleanup() {
	pf_stop "$PF"
	crm_stop KILL
	sink_stop
	rm -rf "$TMP"
}
trap cleanup EXIT

crm_user
chmod 711 "$TMP"
mkdir -p "$TMP/run" "$TMP/store"
chgrp postfix "$TMP/run"
chmod 750 "$TMP/run"
chown "$CRM_USER" "$TMP/store"
SMTP=$(free_port); SUB=$(free_port); SINK=$(free_port)
SOCK=$TMP/run/crmilter.sock
write_conf "$TMP/crmilter.conf" \
	Socket "unix:$SOCK" \
	SpoolDirectory "$TMP/spool" \
	PidFile "$TMP/run/crmilter.pid" \
	InternalHosts 192.0.2.0/24
sed -i "s#^Database .*#Database $TMP/store/crm.db#" "$TMP/crmilter.conf"
DB=$TMP/store/crm.db
LOG=$TMP/crmilter.log

q() { sqlite3 -readonly -cmd ".timeout 10000" "$DB" "$1" 2> /dev/null; }

# wait_spool_empty SECONDS - the worker has ingested everything in new/
wait_spool_empty() {
	local i=0
	while [ -n "$(ls -A "$TMP/spool/new" 2> /dev/null)" ] && [ $i -lt $(($1 * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ -z "$(ls -A "$TMP/spool/new" 2> /dev/null)" ]
}

pf_setup "$PF" "$SMTP" "$SUB" "$SINK" "unix:$SOCK"
sink_start "$TMP/sink" "$SINK"
check "crmilter starts as root, drops to $CRM_USER and listens on a unix socket" \
	crm_start "$TMP/crmilter.conf" "$LOG" -v
check "the private Postfix starts" pf_start "$PF"
check_equal "crmilter runs as $CRM_USER" "$(id -u "$CRM_USER")" \
	"$(awk '/^Uid:/ {print $2}' "/proc/$CRM_PID/status")"

# ---- phase 1: 220 messages inbound and outbound, plus swaks specials ----
smtp-source -s 4 -m 120 -r 2 -f dave@acme.com -t alice@example.com -S "Quote request" \
	"127.0.0.1:$SMTP" > "$TMP/src1.out" 2>&1 &
src1=$!
smtp-source -s 4 -m 100 -f alice@example.com -t dave@acme.com -S "Our offer" \
	"127.0.0.1:$SUB" > "$TMP/src2.out" 2>&1 &
src2=$!
swaks -n -S --server "127.0.0.1:$SMTP" --from eve@acme.com --to alice@example.com,secret@example.com \
	--header "To: alice@example.com" --header "Message-Id: <bcc-1@acme.com>" \
	--header "Subject: Bcc through RCPT" --body "The Bcc recipient is only in the envelope." \
	> "$TMP/swaks1.out" 2>&1
check_equal "swaks: a Bcc message is accepted" 0 $?
swaks -n -S --server "127.0.0.1:$SUB" --from alice@example.com --to bob@example.com \
	--header "Message-Id: <internal-1@example.com>" --header "Subject: Lunch?" \
	--body "Between colleagues." > "$TMP/swaks2.out" 2>&1
check_equal "swaks: an internal message is accepted" 0 $?
swaks -n -S --server "127.0.0.1:$SUB" --from alice@example.com --to carol@globex.com \
	--header "Message-Id: <8bit-1@example.com>" --header "Subject: Caf$(printf '\xc3\xa9') menu" \
	--body "$(printf 'R\xc3\xa9sum\xc3\xa9 attached \xe2\x82\xac')" > "$TMP/swaks3.out" 2>&1
check_equal "swaks: an 8-bit message is accepted" 0 $?
wait $src1; r1=$?
wait $src2; r2=$?
check_equal "smtp-source inbound and outbound runs succeed" "0 0" "$r1 $r2"
check "Postfix delivers every message to smtp-sink" pf_wait_empty "$PF" 60
check_equal "smtp-sink got 223 messages" 223 "$(ls "$TMP/sink" | wc -l)"
check "the worker empties the spool" wait_spool_empty 30

check_equal "every message stored once (messages = milter sources = 223)" "223|223" \
	"$(q "select (select count(*) from messages), (select count(*) from message_sources where source='milter')")"
check_equal "directions: 121 inbound, 101 outbound, 1 internal" \
	"inbound|121 internal|1 outbound|101" \
	"$(q "select direction, count(*) from messages group by direction order by direction" | tr '\n' ' ' | sed 's/ $//')"
check_equal "smtp-source inbound mail has both envelope recipients" 240 \
	"$(q "select count(*) from participants p join messages m on m.id = p.message_id
	      where p.role = 'envelope-rcpt' and m.subject = 'Quote request'")"
check_equal "mail from the submission service has daemon_name ORIGINATING" 102 \
	"$(q "select count(*) from message_sources where daemon_name = 'ORIGINATING'")"
check_equal "the Bcc recipient is kept from RCPT TO" "alice@example.com secret@example.com" \
	"$(q "select address from participants p join messages m on m.id = p.message_id
	      where m.msgid = 'bcc-1@acme.com' and p.role = 'envelope-rcpt' order by address" | tr '\n' ' ' | sed 's/ $//')"
check_equal "the Bcc recipient is not in the To header" "alice@example.com" \
	"$(q "select address from participants p join messages m on m.id = p.message_id
	      where m.msgid = 'bcc-1@acme.com' and p.role = 'to'")"
check_equal "MAIL FROM is kept" "eve@acme.com" \
	"$(q "select mail_from from message_sources s join messages m on m.id = s.message_id
	      where m.msgid = 'bcc-1@acme.com'")"
check_equal "the 8-bit subject is decoded" "Café menu" \
	"$(q "select subject from messages where msgid = '8bit-1@example.com'")"
grep 'status=sent' "$PF/log/maillog" | sed 's/.*: \([0-9A-F]*\): to=.*/\1/' | sort -u > "$TMP/sent.ids"
q "select queue_id from message_sources" | sort -u > "$TMP/stored.ids"
check "every queue id Postfix delivered is stored with its queue id" diff "$TMP/sent.ids" "$TMP/stored.ids"
check_grep "one log line per message with queue id, Message-ID, direction and thread" \
	'^crmilter: [0-9A-F]*: message-id=<bcc-1@acme.com> direction=inbound logged; thread=[0-9]*$' "$LOG"
check_equal "nothing failed" 0 "$(ls "$TMP/spool/failed" | wc -l)"

# ---- phase 2: SIGKILL in the middle of a run ----
before_sink=$(ls "$TMP/sink" | wc -l)
: > "$TMP/kill.log"
grep -c ': spooled ' "$LOG" > "$TMP/spooled.before"
smtp-source -s 3 -m 200 -f dave@acme.com -t alice@example.com -S "Kill run" \
	"127.0.0.1:$SMTP" > "$TMP/src3.out" 2>&1 &
src3=$!
base=$(cat "$TMP/spooled.before")
i=0
while [ $(( $(grep -c ': spooled ' "$LOG") - base )) -lt 60 ] && [ $i -lt 600 ]; do
	sleep 0.05; i=$((i + 1))
done
kill -KILL "$CRM_PID"
wait "$CRM_PID" 2> /dev/null
CRM_PID=
killed_after=$(( $(grep -c ': spooled ' "$LOG") - base ))
wait $src3
check_equal "smtp-source keeps sending while crmilter is dead" 0 $?
check "Postfix delivers every message of the run" pf_wait_empty "$PF" 60
check_equal "smtp-sink got all 200 messages of the killed run" 200 $(( $(ls "$TMP/sink" | wc -l) - before_sink ))
check "Postfix logged that the milter went away and accepted by default" \
	grep -q 'milter unix:.*crmilter.sock' "$PF/log/maillog"
check "crmilter restarts on the same spool" crm_start "$TMP/crmilter.conf" "$LOG" -v
check "the worker drains what the dead crmilter had accepted" wait_spool_empty 30
grep ': spooled ' "$LOG" | tail -n +$((base + 1)) | head -n "$killed_after" |
	sed 's/^crmilter: debug: \([0-9A-F]*\): spooled .*/\1/' | sort -u > "$TMP/accepted.ids"
q "select queue_id from message_sources s join messages m on m.id = s.message_id
   where m.subject = 'Kill run'" | sort -u > "$TMP/kill-stored.ids"
n_acc=$(wc -l < "$TMP/accepted.ids")
if [ "$n_acc" -ge 60 ] && [ -z "$(comm -23 "$TMP/accepted.ids" "$TMP/kill-stored.ids")" ]; then
	ok "every message accepted at EOM before the kill ($n_acc) is in the store"
else
	notok "every message accepted at EOM before the kill is in the store ($n_acc accepted)"
	comm -23 "$TMP/accepted.ids" "$TMP/kill-stored.ids" | head -5 | sed 's/^/# missing: /'
fi
check_equal "no Kill-run message is stored twice" \
	"$(q "select count(distinct s.queue_id) from message_sources s join messages m on m.id = s.message_id where m.subject = 'Kill run'")" \
	"$(q "select count(*) from message_sources s join messages m on m.id = s.message_id where m.subject = 'Kill run'")"
check_equal "tmp/ holds nothing after the restart" 0 "$(ls "$TMP/spool/tmp" | wc -l)"

crm_stop TERM
check_grep "SIGTERM stops crmilter cleanly" '^crmilter: stopped$' "$LOG"
