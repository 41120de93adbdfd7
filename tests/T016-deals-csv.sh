#!/usr/bin/env bash
# T016-deals-csv.sh - crmctl deals import takes a deals file as people write
# it, and refuses, naming FILE:LINE and importing nothing, what it would
# otherwise misread: a short row, an extra field, a contact that is not an
# address, a key given twice, an unknown column, an empty status; Excel's
# "CSV UTF-8" (a byte order mark) imports; --help is help, not a file name
. "$(dirname "$0")/test-lib.sh"

write_conf "$TMP/c.conf"
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }
deals() { sqlite3 -readonly "$TMP/store.db" "select count(*) from deals" 2> /dev/null || echo 0; }
# refused NAME WANT TEXT - a file NAME.csv of TEXT is refused with WANT, nothing imported
refused() {
	printf '%s\n' "$3" > "$TMP/$1.csv"
	crm deals import "$TMP/$1.csv" > /dev/null 2> "$TMP/$1.err"
	local rc=$?
	if [ "$rc" = 2 ] && grep -q "^crmctl: $TMP/$1.csv:$2" "$TMP/$1.err" && [ "$(deals)" = 0 ]; then
		ok "$1: refused, FILE:LINE named, nothing imported ($(sed "s#^crmctl: $TMP/##" "$TMP/$1.err"))"
	else
		notok "$1: refused with '$2', nothing imported (exit $rc, $(deals) deals)"
		sed 's/^/# /' "$TMP/$1.err"
	fi
}
refused short "3: 3 fields, but the header line has 5" 'key,name,account,contacts,status
D-1,Renewal,acme.com,dave@acme.com,open
D-2,Pilot,acme.com'
refused extra "2: 6 fields, but the header line has 5" 'key,name,account,contacts,status
D-1,Renewal,acme.com,dave@acme.com,open,oops'
refused contact "2: 'dave(at)acme.com' is not an address" 'key,name,contacts
D-1,Renewal,dave@acme.com;dave(at)acme.com'
refused twice "3: key 'D-1' is already on line 2" 'key,name
D-1,Renewal
D-1,Renewal again'
refused column "1: unknown column 'owner'" 'key,name,owner
D-1,Renewal,bob'
refused status "2: status must be open or closed, not ''" 'key,name,status
D-1,Renewal,'

printf '\357\273\277key,name,account,contacts,status\r\nD-1,Renewal,acme.com,dave@acme.com;erin@acme.com,closed\r\n' > "$TMP/excel.csv"
check_equal "a header with a byte order mark (Excel's CSV UTF-8) imports" "imported 1 deals" \
	"$(crm deals import "$TMP/excel.csv" 2>&1)"
check_equal "... with its status and contacts" "D-1|closed|2" \
	"$(sqlite3 -readonly "$TMP/store.db" "select d.key, d.status, (select count(*) from deal_contacts c where c.deal_id = d.id) from deals d")"
crm deals import --help > "$TMP/help" 2>&1
check_equal "deals import --help is help (exit 0)" 0 $?
check_grep "... and says the format" "columns key (required)" "$TMP/help"
exit 0
