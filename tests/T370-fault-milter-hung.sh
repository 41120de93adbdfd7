#!/usr/bin/env bash
# T370-fault-milter-hung.sh - crmilter hangs (SIGSTOP) past the MTA's
# timeouts: with the documented Postfix settings (contrib/postfix/main.cf:
# milter_default_action = accept and its milter_*_timeout values) mail
# still flows, only delayed by one timeout; after SIGCONT mail is logged again
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "hung crmilter"
fault_setup
settings=$(grep -E '^milter_(default_action|[a-z]+_timeout)[[:space:]]*=' "$CRM_TOP/contrib/postfix/main.cf" |
	tr -d ' ')
for s in $settings; do postconf -c "$PF/etc" -e "$s"; done
postfix -c "$PF/etc" reload > /dev/null 2>&1
cmd_timeout=$(postconf -c "$PF/etc" -h milter_command_timeout | tr -d 's')
check_equal "the documented settings are in use" "$(echo "$settings" | sort)" \
	"$(postconf -c "$PF/etc" $(echo "$settings" | sed 's/=.*//') | tr -d ' ' | sort)"
sleep 1

kill -STOP "$CRM_PID"
t0=$(date +%s)
check "10 messages from 10 clients are sent to a hung crmilter" send hung 10 --clients 10 --per-conn 1
check_delivered hung
elapsed=$(( $(date +%s) - t0 ))
if [ $elapsed -le $((cmd_timeout + 30)) ]; then
	ok "all delivered in ${elapsed} s: one milter_command_timeout (${cmd_timeout} s) of delay, no more"
else
	notok "all delivered within one timeout (took ${elapsed} s, milter_command_timeout ${cmd_timeout} s)"
fi
check "Postfix logs the milter timeout and goes on by its default action" \
	grep -q 'milter unix:.*crmilter.sock: .*timed out' "$PF/log/maillog"
check_equal "nothing was stored while crmilter hung" 0 "$(q "select count(*) from messages where msgid like 'hung-%'")"

kill -CONT "$CRM_PID"
check "20 messages are sent once crmilter runs again" send alive 20 --clients 4
check_delivered alive
check "the worker ingests them" wait_spool_empty 30
check_stored_once alive
