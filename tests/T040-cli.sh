#!/usr/bin/env bash
# T040-cli.sh - crmctl's command line: help, version, usage and configuration errors
. "$(dirname "$0")/test-lib.sh"

check "crmctl -V prints the version" sh -c "'$CRMCTL' -V | grep -q '^crmctl [0-9]'"
check "crmctl --help lists the import command" sh -c "'$CRMCTL' --help | grep -q 'import PATH'"
check "crmctl import --help succeeds" "$CRMCTL" -c "$TMP/none.conf" import --help
# a command's help reads no configuration (not the system's, not a bad one)
printf 'NoSuchKey 1\n' > "$TMP/poison.conf"
for cmd in import stats threads show contacts accounts parse spool status rules deals user "user list" \
	export disconnect reconnect mailboxes forget purge hold release holds; do
	"$CRMCTL" -c "$TMP/poison.conf" $cmd --help > "$TMP/help.out" 2> "$TMP/help.err"
	check_equal "crmctl $cmd --help reads no configuration" "0 0" \
		"$? $(grep -c poison "$TMP/help.err")"
done

"$CRMCTL" > /dev/null 2>&1
check_equal "no command is a usage error (exit 2)" 2 $?
"$CRMCTL" frobnicate > /dev/null 2> "$TMP/err"
check_equal "an unknown command exits 2" 2 $?
check_grep "an unknown command is named" "unknown command 'frobnicate'" "$TMP/err"

printf 'Database %s/s.db\nDomains example.com\nRawStorage sometimes\n' "$TMP" > "$TMP/bad.conf"
"$CRMCTL" -c "$TMP/bad.conf" stats > /dev/null 2> "$TMP/err"
check_equal "a bad configuration value exits 2" 2 $?
check_equal "the error names file and line" \
	"crmctl: $TMP/bad.conf:3: expected full, headers or none: RawStorage sometimes" "$(cat "$TMP/err")"

"$CRMCTL" -c "$TMP/none.conf" stats > /dev/null 2> "$TMP/err"
check_equal "a missing -c file exits 2" 2 $?
check_grep "a missing -c file is named" "none.conf: No such file or directory" "$TMP/err"

write_conf "$TMP/c.conf"
"$CRMCTL" -c "$TMP/c.conf" import > /dev/null 2>&1
check_equal "import without a path is a usage error" 2 $?
"$CRMCTL" -c "$TMP/c.conf" import "$TMP/does-not-exist" > "$TMP/out" 2> "$TMP/err"
check_equal "importing a missing path exits 1" 1 $?
check_grep "the missing path is named" "does-not-exist: No such file or directory" "$TMP/err"
check_equal "the summary still prints" "imported 0, duplicates 0, failed 1" "$(cat "$TMP/out")"

"$CRMCTL" -c "$TMP/c.conf" show thread 999 > /dev/null 2> "$TMP/err"
check_equal "show of a missing thread exits 1" 1 $?
check_grep "show of a missing thread says so" "no thread 999" "$TMP/err"
"$CRMCTL" -c "$TMP/c.conf" show thread abc > /dev/null 2>&1
check_equal "show thread with a bad id is a usage error" 2 $?
