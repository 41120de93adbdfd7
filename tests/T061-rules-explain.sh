#!/usr/bin/env bash
# T061-rules-explain.sh - crmctl rules explain: every decision for a message
# and the rule (file:line, text) that made it, as text and JSON; --direction
. "$(dirname "$0")/test-lib.sh"
SCEN=$CORPORA/scenario

write_conf "$TMP/c.conf"
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }
cd "$SCEN" || exit 1
check_output "explain prints each decision with its rule" "$EXPECTED/T061-explain.txt" \
	crm rules explain -r rules mail/03-deal-renewal-grace-uk.eml mail/11-spoofed-dave.eml \
	mail/12-dave-out-of-office.eml mail/10-hr-offer.eml mail/14-umbrella-intro.eml
crm rules explain -r rules --json mail/01-deal-renewal-proposal.eml > "$TMP/j"
check_equal "explain --json: log, capture and deal with their rules" \
	"log built-in 9 | dave@acme.com True rules 16 | DEAL-101 rules 17" \
	"$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); p=v["people"][0]
print(v["log"]["decision"], v["log"]["rule"]["file"], v["log"]["rule"]["line"], "|", p["address"], p["capture"], p["account_rule"]["file"], p["account_rule"]["line"], "|", v["deals"][0]["key"], v["deals"][0]["rule"]["file"], v["deals"][0]["rule"]["line"])' "$TMP/j")"
check_equal "without -r, explain uses the built-in rules when RulesFile is absent" \
	"log         skip \"bounce\"  [built-in:6] skip \"bounce\" if bounce" \
	"$(crm rules explain mail/13-bounce.eml | grep '^log')"
check_equal "--direction out makes an inbound message outbound" "direction   outbound" \
	"$(crm rules explain --direction out mail/02-deal-renewal-dave-reply.eml | grep '^direction')"
check_equal "--direction out: Dave wrote it, so he is no recipient of our mail" \
	"capture     dave@acme.com: not captured (policy sent: not a recipient of our mail)  [built-in:12] policy sent" \
	"$(crm rules explain --direction out mail/02-deal-renewal-dave-reply.eml | grep '^capture')" 
crm rules explain mail/none.eml > /dev/null 2> "$TMP/err"
check_equal "a missing message exits 1" 1 $?
crm rules explain -r "$CRM_TOP/tests/rules/bad-regex.rules" mail/01-deal-renewal-proposal.eml > /dev/null 2> "$TMP/err"
check_equal "explain with a bad rules file exits 2" 2 $?
check_grep "and names the error" "bad-regex.rules:3:27: bad regex" "$TMP/err"
