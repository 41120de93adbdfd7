#!/usr/bin/env bash
# T065-rules-check.sh - crmctl rules check over the table in tests/rules/:
# good files say "ok", bad ones list every error as FILE:LINE:COL: message
# (pcre2's own text and offset) and exit 1; contrib/rules.example loads and
# reproduces the built-in defaults exactly
. "$(dirname "$0")/test-lib.sh"

write_conf "$TMP/c.conf"
for f in "$CRM_TOP"/tests/rules/*.rules; do
	n=$(basename "$f" .rules)
	(cd "$CRM_TOP/tests/rules" && "$CRMCTL" -c "$TMP/c.conf" rules check "$n.rules"; echo "exit $?") \
		> "$TMP/$n.out" 2>&1
	if diff -u "$CRM_TOP/tests/rules/$n.expected" "$TMP/$n.out" > "$TMP/diff"; then
		ok "rules check $n.rules gives tests/rules/$n.expected"
	else
		notok "rules check $n.rules gives tests/rules/$n.expected"
		sed 's/^/# /' "$TMP/diff" | head -40
	fi
done

write_conf "$TMP/r.conf" RulesFile "$CRM_TOP/tests/rules/good-empty.rules"
check_equal "without FILE, rules check reads RulesFile, and gives its sha256" \
	"$CRM_TOP/tests/rules/good-empty.rules: ok, 0 rules, sha256 $(sha256sum < "$CRM_TOP/tests/rules/good-empty.rules" | cut -d' ' -f1)" \
	"$("$CRMCTL" -c "$TMP/r.conf" rules check)"
check_equal "without FILE and without RulesFile, rules check says the built-in rules are in force" \
	"$TMP/rules: absent: the built-in rules are in force (RulesFile is not set)" \
	"$("$CRMCTL" -c "$TMP/c.conf" rules check)"
write_conf "$TMP/typo.conf" RulesFile "$CRM_TOP/tests/rules/good-empty.rulez"
"$CRMCTL" -c "$TMP/typo.conf" rules check > /dev/null 2> "$TMP/err"
check_equal "a RulesFile that is set but missing fails the check (exit 1)" 1 $?
check_grep "... naming the configuration line" "^$TMP/typo.conf:4: RulesFile $CRM_TOP/tests/rules/good-empty.rulez: No such file or directory" "$TMP/err"
"$CRMCTL" -c "$TMP/c.conf" rules check "$TMP/missing.rules" > /dev/null 2> "$TMP/err"
check_equal "a missing file exits 1" 1 $?
check_grep "a missing file is named" "missing.rules: No such file or directory" "$TMP/err"
check "contrib/rules.example is a valid rules file" "$CRMCTL" -c "$TMP/c.conf" rules check \
	"$CRM_TOP/contrib/rules.example"

# the example spells out the defaults: importing with it gives T010's results
cp -r "$CORPORA/mail" "$TMP/mail"
find "$TMP/mail" -type f -exec touch -d '2025-06-30 12:00:00 UTC' {} +
write_conf "$TMP/x.conf" RulesFile "$CRM_TOP/contrib/rules.example"
"$CRMCTL" -c "$TMP/x.conf" import "$TMP/mail" > /dev/null
check_output "rules.example: threads as with the built-in rules" "$EXPECTED/T010-threads.txt" \
	"$CRMCTL" -c "$TMP/x.conf" threads
check_output "rules.example: contacts as with the built-in rules" "$EXPECTED/T010-contacts.txt" \
	"$CRMCTL" -c "$TMP/x.conf" contacts
check_output "rules.example: stats as with the built-in rules" "$EXPECTED/T010-stats.txt" \
	"$CRMCTL" -c "$TMP/x.conf" stats
