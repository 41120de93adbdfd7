#!/usr/bin/env bash
# T064-rules-reload.sh - crmilter reloads the rules on SIGHUP atomically: a
# bad file keeps the rules in use and logs every error with its line; a good
# one takes effect for the next message
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"
SCEN=$CORPORA/scenario

if [ "$(id -u)" -ne 0 ] || [ ! -x "$CRM_BUILD/crmilter" ] || ! command -v sqlite3 > /dev/null; then
	skip "rules reload" "needs root, sqlite3 and crmilter"
	exit 0
fi
cleanup() { crm_stop KILL; rm -rf "$TMP"; }
trap cleanup EXIT
crm_user
chmod 711 "$TMP"
mkdir -p "$TMP/store" "$TMP/spool/new" "$TMP/run"
cp "$SCEN/rules" "$TMP/rules"
chmod 644 "$TMP/rules"
write_conf "$TMP/c.conf" RulesFile "$TMP/rules" SpoolDirectory "$TMP/spool" \
	PidFile "$TMP/run/pid" Socket "unix:$TMP/run/s.sock"
sed -i "s#^Database .*#Database $TMP/store/crm.db#" "$TMP/c.conf"
chown -R "$CRM_USER" "$TMP/store" "$TMP/spool" "$TMP/run"

# put N MSGID - a receipt from no-reply@payments.example into the spool
put() {
	spool_put "$TMP/spool" "$1" "R$1" $'From: no-reply@payments.example\nTo: alice@example.com\nSubject: Your receipt #'"$1"$'\nMessage-ID: <'"$2"$'>\nDate: Tue, 06 May 2025 12:00:00 +0000\n\nPaid.\n' \
		no-reply@payments.example alice@example.com
}
drained() {
	local i=0
	while [ -n "$(ls -A "$TMP/spool/new")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -z "$(ls -A "$TMP/spool/new")" ]
}
logof() { sqlite3 -readonly "$TMP/store/crm.db" "select log || ' ' || coalesce(log_reason, '') from messages where msgid = '$1'"; }
wait_log() {
	local i=0
	while ! grep -q "$1" "$TMP/log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

check "crmilter starts" crm_start "$TMP/c.conf" "$TMP/log"
put 1 r1@payments.example
check "the first receipt is ingested" drained
check_equal "the rules skip receipts" "skipped receipt" "$(logof r1@payments.example)"

printf '[log]\nskip if subject /broken(/\nlog "everything"\n' > "$TMP/rules"
kill -HUP "$CRM_PID"
sleep 0.3
put 2 r2@payments.example
check "the second receipt is ingested" drained
wait_log "keeping the configuration and rules in use"
check_grep "a bad file is logged with its line and column" "$TMP/rules:2:25: bad regex /broken(/: missing closing parenthesis at offset 7" "$TMP/log"
check_grep "and the rules in use are kept" "^crmilter: warning: $TMP/c.conf: not reloaded: keeping the configuration and rules in use$" "$TMP/log"
check_equal "the old rules still skip receipts" "skipped receipt" "$(logof r2@payments.example)"

printf '[log]\nlog "everything"\n' > "$TMP/rules"
kill -HUP "$CRM_PID"
sleep 0.3
put 3 r3@payments.example
check "the third receipt is ingested" drained
check_equal "after a good reload the new rules log receipts" "logged everything" "$(logof r3@payments.example)"
check_grep "a good reload is logged with the rules now in force" "rules in force: $TMP/rules, sha256 " "$TMP/log"

# a reload that changes nothing says so once, and does not claim the store changed
lines=$(wc -l < "$TMP/log")
kill -HUP "$CRM_PID"
wait_log "configuration reloaded from"
sleep 0.5
tail -n +$((lines + 1)) "$TMP/log" > "$TMP/log.after"
check_grep "the reload is logged" "configuration reloaded from $TMP/c.conf" "$TMP/log.after"
check_equal "no store change is claimed" "" "$(grep -E 'reopening the store|Database changed' "$TMP/log.after")"
crm_stop TERM
