#!/usr/bin/env bash
# S460-default-action.sh - what a crash costs under each milter_default_action:
# 2,000 messages in SMTP sessions of 25, while crmilter is killed (SIGKILL)
# 20 times and started again at once.  Postfix applies the default action for
# the rest of each open session once its milter fails: with "accept" no mail
# waits but those messages pass unlogged (counted, and the figure printed);
# with "tempfail" the rest of the session is deferred, the client tries
# again, and every message accepted is one record in the store.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "milter_default_action under kills"

# round ACTION - the stream and the kills under ACTION; sets UNLOGGED, ACCEPTED
round() {
	local action=$1 i
	postconf -c "$PF/etc" -e "milter_default_action = $action" > /dev/null
	postfix -c "$PF/etc" reload > /dev/null 2>&1
	sleep 1
	send "$action" 2000 --clients 8 --per-conn 25 --timeout 120 &
	local spid=$!
	sleep 1
	for i in $(seq 20); do
		sleep 0.4
		crm_stop KILL
		crm_start "$CONF" "$LOG" -v || { notok "$action: crmilter restarts"; return; }
	done
	wait "$spid"
	wait_spool_empty 120
	check "$action: Postfix delivered what it accepted" pf_wait_empty "$PF" 120
	ACCEPTED=$(wc -l < "$TMP/$action.sent")
	local stored
	stored=$(q "select count(*) from messages where msgid like '$action-%'")
	UNLOGGED=$((ACCEPTED - stored))
	echo "# $action: 20 kills in a stream of 2000: $ACCEPTED accepted by Postfix, $stored stored, $UNLOGGED unlogged"
}

fault_setup
round accept
check_equal "accept: no message waits (all 2,000 accepted)" 2000 "$ACCEPTED"
check "accept: nothing stored twice ($UNLOGGED passed unlogged)" test "$UNLOGGED" -ge 0
round tempfail
check_equal "tempfail: nothing Postfix accepted is unlogged" 0 "$UNLOGGED"
q "select msgid from messages where msgid like 'tempfail-%'" | sort > "$TMP/tempfail.stored"
check_equal "tempfail: each accepted message is one record" "" \
	"$(comm -3 "$TMP/tempfail.sent" "$TMP/tempfail.stored" | head -3)"
# a copy spooled just before the kill, whose answer Postfix never got, was
# deferred and sent again: the record keeps both arrivals as sources
echo "# tempfail: $(q "select count(*) from message_sources s join messages m on m.id = s.message_id
	where m.msgid like 'tempfail-%' and s.source = 'milter'") milter arrivals for $ACCEPTED records"
exit 0
