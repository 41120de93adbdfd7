#!/usr/bin/env bash
# T068-rules-lint.sh - rules that load but mean something else are warned
# about, FILE:LINE, with the fix: crmctl rules check (exit 0, or 1 with
# --strict), crmctl import (before it imports), crmilter (at start); the
# built-in rules, contrib/rules.example and the scenario's rules stay
# warning-free.  Each case is its own small file, so that a warning cannot
# come from another case.
. "$(dirname "$0")/test-lib.sh"

write_conf "$TMP/c.conf"
# lint NAME TEXT - write $TMP/NAME.rules, run rules check on it: $TMP/NAME.out, $TMP/NAME.rc
lint() {
	printf '%s\n' "$2" > "$TMP/$1.rules"
	"$CRMCTL" -c "$TMP/c.conf" rules check "$TMP/$1.rules" > "$TMP/$1.out" 2>&1
	echo $? > "$TMP/$1.rc"
}
# warns NAME LINE TEXT - the check of NAME warned at LINE with TEXT, and exited 0
warns() {
	check_grep "$1: line $2 warned: $3" "^$TMP/$1.rules:$2: warning: .*$3" "$TMP/$1.out"
}
warnings() { grep -c ": warning: " "$TMP/$1.out"; }

lint comma '[associate]
account "Acme" = acme.test, acme-corp.test'
warns comma 2 "'acme.test,' holds a comma: rules separate values with spaces"
check_equal "comma: one warning, exit 0" "1 0" "$(warnings comma) $(cat "$TMP/comma.rc")"

lint listcomma 'list partners = partner.test, other.test
[log]
skip "partners" if external @partners'
warns listcomma 1 "'partner.test,' holds a comma"

lint trust '[capture]
require-auth dmarc'
warns trust 2 'require-auth without a "trust authserv" line: .*add: trust authserv'
lint trusted 'trust authserv mx.example.com
[capture]
require-auth dmarc'
check_equal "require-auth with trust authserv: no warning" 0 "$(warnings trusted)"

lint typo '[visibility]
private "hr" if participant hr@exmaple.com'
warns typo 2 "exmaple.com is not one of Domains but is close to example.com: a typo?"
lint own '[visibility]
private "hr" if participant hr@example.com or participant hr@mail.example.com
[log]
skip "far" if from @example.org'
check_equal "own domains, a subdomain and a far domain: no warning" 0 "$(warnings own)"

lint policy '[capture]
policy sent
policy sent-and-received'
warns policy 3 "a second policy line: it overrides line 2 (the last one wins)"
lint require '[capture]
require-auth off
require-auth off'
warns require 3 "a second require-auth line: it overrides line 2"

lint twice '[associate]
account "Acme" = acme.test acme-corp.test
account "Acme Corp" = acme-corp.test'
warns twice 3 'acme-corp.test is also in account "Acme" (line 2), which comes first and takes it'

lint unreached '[log]
log "everything"
skip "receipt" if subject /receipt/i'
warns unreached 3 'never reached: line 2 (log "everything") matches every message first'
lint same '[visibility]
private "hr" if participant hr@example.com
workspace everything if participant hr@example.com'
warns same 3 "never reached: line 2 tests the same (if participant hr@example.com)"
lint capture '[capture]
never @acme.test
always @acme.test'
warns capture 3 "never reached: line 2 tests the same (@acme.test)"
lint reached '[log]
skip "receipt" if subject /receipt/i
log "everything"'
check_equal "a catch-all last: no warning" 0 "$(warnings reached)"

# the deal pattern of crmilter-rules(5) against deals keyed 101, 102
printf 'key,name\n101,Renewal\n102,Pilot\n' > "$TMP/deals.csv"
"$CRMCTL" -c "$TMP/c.conf" deals import "$TMP/deals.csv" > /dev/null
lint deal '[associate]
deal subject /\[(DEAL-\d+)\]/'
warns deal 2 'no imported deal key can be what /\\\[(DEAL-\\d+)\\\]/ captures'
lint dealok '[associate]
deal subject /\[DEAL-(\d+)\]/
deal subject /#(\d+)/'
check_equal "patterns that capture the key alone: no warning" 0 "$(warnings dealok)"
rm -f "$TMP/store.db"*
lint nodeals '[associate]
deal subject /\[(DEAL-\d+)\]/'
check_equal "without imported deals the deal pattern is not judged" 0 "$(warnings nodeals)"

# --strict, and the files that must stay clean
"$CRMCTL" -c "$TMP/c.conf" rules check --strict "$TMP/comma.rules" > "$TMP/strict.out" 2>&1
check_equal "--strict makes a warning an error (exit 1)" 1 $?
check_grep "... and says so" "ok, 1 rules, sha256 [0-9a-f]*: warnings are errors (--strict)$" "$TMP/strict.out"
check "--strict passes contrib/rules.example" "$CRMCTL" -c "$TMP/c.conf" rules check --strict \
	"$CRM_TOP/contrib/rules.example"
check "--strict passes the built-in rules" "$CRMCTL" -c "$TMP/c.conf" rules check --strict
check "--strict passes the scenario's rules (no deals imported)" "$CRMCTL" -c "$TMP/c.conf" \
	rules check --strict "$CORPORA/scenario/rules"

# crmctl import says the same, and imports
mkdir "$TMP/mail"
printf 'From: dave@acme.test\nTo: alice@example.com\nSubject: hi\nMessage-ID: <l1@acme.test>\nDate: Tue, 06 May 2025 09:00:00 +0000\n\nHello.\n' \
	> "$TMP/mail/1.eml"
write_conf "$TMP/i.conf" RulesFile "$TMP/comma.rules"
"$CRMCTL" -c "$TMP/i.conf" import "$TMP/mail" > "$TMP/imp.out" 2> "$TMP/imp.err"
check_equal "import with a warned file still imports (exit 0)" 0 $?
check_grep "... after printing the warning" "^$TMP/comma.rules:2: warning: 'acme.test,' holds a comma" "$TMP/imp.err"

if [ "$(id -u)" -ne 0 ] || [ ! -x "$CRM_BUILD/crmilter" ]; then
	skip "crmilter logs rules warnings" "needs root and crmilter"
	exit 0
fi
. "$CRM_TOP/tests/milter/postfix.sh"
cleanup() { crm_stop KILL; rm -rf "$TMP"; }
trap cleanup EXIT
crm_user
chmod 711 "$TMP"
chmod 644 "$TMP/typo.rules"
mkdir -p "$TMP/m/spool" "$TMP/m/run" "$TMP/m/store"
chown -R "$CRM_USER" "$TMP/m"
write_conf "$TMP/m.conf" RulesFile "$TMP/typo.rules" SpoolDirectory "$TMP/m/spool" \
	PidFile "$TMP/m/run/pid" Socket "unix:$TMP/m/run/s.sock"
sed -i "s#^Database .*#Database $TMP/m/store/crm.db#" "$TMP/m.conf"
check "crmilter starts with a warned rules file" crm_start "$TMP/m.conf" "$TMP/m.log"
i=0; while ! grep -q "rules in force" "$TMP/m.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_grep "... and logs the warning" \
	"^crmilter: warning: $TMP/typo.rules:2: warning: exmaple.com is not one of Domains" "$TMP/m.log"
crm_stop TERM
exit 0
