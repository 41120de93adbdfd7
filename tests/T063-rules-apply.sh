#!/usr/bin/env bash
# T063-rules-apply.sh - crmctl rules apply: the day imported under the
# built-in rules, then the company's rules installed: --dry-run reports what
# would change and changes nothing; apply re-logs (a receipt and the dentist
# lose their content), re-captures, re-associates and re-sets visibility, to
# exactly what importing under the new rules gives (T062)
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/rules/dump-store.sh"
SCEN=$CORPORA/scenario

if ! command -v sqlite3 > /dev/null; then
	skip "rules apply" "needs sqlite3"
	exit 0
fi
# no RulesFile: its default, rules beside c.conf, does not exist yet (the
# built-in rules), and is read once it does
write_conf "$TMP/c.conf"
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }
crm deals import "$SCEN/deals.csv" > /dev/null
crm import "$SCEN/mail" > /dev/null
dump_store "$TMP/store.db" "$TMP/" > "$TMP/before.txt"
check_grep "under the built-in rules the receipt is logged" "r08.receipt@payments.example | inbound | logged" "$TMP/before.txt"

cp "$SCEN/rules" "$TMP/rules"
crm rules apply --dry-run > "$TMP/dry"
check_equal "--dry-run exits 0 and says nothing changed" \
	"dry run: 13 messages evaluated, 21 decisions removed, 17 added; nothing changed" "$(tail -1 "$TMP/dry")"
check_grep "--dry-run names the receipt's new decision and its rule" \
	"^+ message <r08.receipt@payments.example>: skipped \"receipt\" by $TMP/rules:8$" "$TMP/dry"
check_grep "--dry-run names the HR thread's new visibility" \
	"^+ thread [0-9]* \"Your offer letter\": visibility participants/nothing by $TMP/rules:22$" "$TMP/dry"
dump_store "$TMP/store.db" "$TMP/" > "$TMP/still.txt"
check "--dry-run changes nothing" diff -u "$TMP/before.txt" "$TMP/still.txt"

crm rules apply > "$TMP/real"
check "apply reports the same changes as the dry run" diff <(sed '$d' "$TMP/dry") <(sed '$d' "$TMP/real")
dump_store "$TMP/store.db" "$TMP/" > "$TMP/after.txt"
check "after apply, every decision is what an import under the new rules gives" \
	diff -u "$EXPECTED/T062-scenario.txt" "$TMP/after.txt"
diff -u "$EXPECTED/T062-scenario.txt" "$TMP/after.txt" | head -30 | sed 's/^/# /'
check_equal "the receipt kept no participants, raw source or index row" "0|0|0" \
	"$(sqlite3 "$TMP/store.db" "select (select count(*) from participants p join messages m on m.id = p.message_id
	   where m.msgid = 'r08.receipt@payments.example'), (select count(*) from raw r join messages m on
	   m.id = r.message_id where m.msgid = 'r08.receipt@payments.example'), (select count(*) from fts
	   where fts match 'Amount')")"
check_equal "a second apply changes nothing (the receipt and the dentist have no raw source left)" "11 messages evaluated, 0 decisions removed, 0 added" \
	"$(crm rules apply | tail -1)"
check_equal "each real apply is audited, a dry run is not" "2" "$(sqlite3 "$TMP/store.db" "select count(*) from audit where action = 'rules apply'")"

# an edit: Globex leads go to the sales team too, re-applied to mail since noon
sed -i 's/and external umbrella.example/and external umbrella.example globex.example/' "$TMP/rules"
crm rules apply --since 2025-05-06T12:00:00 > "$TMP/since"
check_equal "--since re-applies the edited rule to later threads only" \
	"+ thread N \"Rollout plan\": visibility team:sales/subject by $TMP/rules:23" \
	"$(grep '^+' "$TMP/since" | sed 's/thread [0-9]*/thread N/')"
check_grep "--since names the old decision it replaced" \
	"^- thread [0-9]* \"Rollout plan\": visibility workspace/everything by built-in:23$" "$TMP/since"
check_equal "Pilot timing (11:00) is left as it was" "workspace/everything" \
	"$(sqlite3 "$TMP/store.db" "select visibility || '/' || outside from threads where subject = 'Pilot timing'")"
check_folds "after re-applying each record's status figures equal its links'" "$TMP/store.db"
crm rules apply --since yesterday > /dev/null 2>&1
check_equal "a bad --since is a usage error" 2 $?
