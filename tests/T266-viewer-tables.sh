#!/usr/bin/env bash
# T266-viewer-tables.sh - the records tables as a spreadsheet: a filter per
# column, up to three sort keys, a page size, an account made from its
# domain showing the domain once, and "Download CSV" of the current view:
# RFC 4180 with a byte order mark, compared byte for byte with what the
# fixtures (tests/viewer/tables) give; cells that start with = + - @ kept
# as text; the same rows, in the same order, as the API gives the same user
# (a private thread's people absent for an outsider to it), bad parameters
# a 400, an audit line per download.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"
D=$TMP/v
viewer_tables_start "$D"
get() { curl -s -b "$TMP/jar.$1" "$VIEW_URL$2"; }
q() { sqlite3 -readonly "$D/store.db" "$1"; }
# expect NAME - tests/viewer/expected/tables-NAME.csv with the fixtures' ids
expect() {
	sed -e "s/@ALPHA@/$(q "SELECT id FROM accounts WHERE domain = 'alpha-t266.test'")/" \
	    -e "s/@BETA@/$(q "SELECT id FROM accounts WHERE domain = 'beta-t266.test'")/" \
	    -e "s/@BO@/$(q "SELECT id FROM contacts WHERE address = 'bo@alpha-t266.test'")/" \
	    -e "s/@CY@/$(q "SELECT id FROM contacts WHERE address = 'cy@beta-t266.test'")/" \
	    -e "s/@DEE@/$(q "SELECT id FROM contacts WHERE address = 'dee@gamma-t266.test'")/" \
	    -e "s/@D1@/$(q "SELECT id FROM deals WHERE key = 'DEAL-T266-1'")/" \
	    -e "s/@D2@/$(q "SELECT id FROM deals WHERE key = 'DEAL-T266-2'")/" \
	    "$VT/expected/tables-$1.csv"
}
# same DESC FILE URL USER - the download at URL as USER is FILE byte for byte
same() {
	expect "$2" > "$TMP/want"
	get "$4" "$3" > "$TMP/got"
	if cmp -s "$TMP/want" "$TMP/got"; then ok "$1"; else
		notok "$1"; diff <(cat -A "$TMP/want") <(cat -A "$TMP/got") | sed 's/^/# /'; fi
}

# ---- the download, byte for byte ----
same "accounts.csv of a filtered view: BOM, CRLF, a formula quoted as text" accounts \
	"/accounts.csv?domain=t266" alice
same "contacts.csv sorted by name: quotes doubled, + kept as text, no private contact" \
	contacts-alice "/contacts.csv?address=T266&sort=name" alice
same "contacts.csv as an insider of the private thread, by account descending, then name" \
	contacts-carol "/contacts.csv?address=t266&sort=account,name&dir=desc" carol
same "deals.csv by key descending: - and @ kept as text, a deal without threads dated empty" \
	deals "/deals.csv?key=t266&sort=key&dir=desc" alice
curl -s -D "$TMP/h" -o /dev/null -b "$TMP/jar.alice" "$VIEW_URL/contacts.csv"
hdr() { tr -d '\r' < "$TMP/h" | grep -i "^$1:" | cut -d' ' -f2-; }
check_equal "a download is text/csv in UTF-8" "text/csv; charset=utf-8" "$(hdr Content-Type)"
check_equal "a download is an attachment named after the table" \
	'attachment; filename="contacts.csv"' "$(hdr Content-Disposition)"
check_equal "a download is never sniffed" nosniff "$(hdr X-Content-Type-Options)"
check_equal "each download names its rows in the access log" \
	"download=contacts.csv rows=2 download=contacts.csv rows=3 download=contacts.csv rows=$(
		get alice /api/contacts | jq .total)" \
	"$(grep '"GET /contacts.csv" 200' "$D/main-access.log" | grep -o 'download=.*' | xargs)"
check_equal "without a session a download is the login form, no data" 303 \
	"$(curl -s -o /dev/null -w '%{http_code}' "$VIEW_URL/contacts.csv")"

# ---- the download holds what the page shows the same user ----
# ids USER KIND QUERY - the ids of the download, and of the API, in their order
for k in accounts contacts deals; do
	for u in alice carol; do
		get $u "/$k.csv?sort=name" | tail -n +2 | cut -d, -f1 | tr -d '\r' > "$TMP/csv.ids"
		get $u "/api/$k?sort=name&limit=500" | jq -r '.items[].id' > "$TMP/api.ids"
		check_equal "$k.csv holds the rows of $u's view, in its order" \
			"$(cat "$TMP/api.ids")" "$(cat "$TMP/csv.ids")"
	done
done
check_equal "alice's contacts.csv lacks the private thread's contact" 0 \
	"$(get alice /contacts.csv | grep -c dee@gamma-t266.test)"
check_equal "carol's has it" 1 "$(get carol /contacts.csv | grep -c dee@gamma-t266.test)"
check_equal "alice's accounts.csv lacks the private thread's account" 0 \
	"$(get alice /accounts.csv | grep -c gamma-t266.test)"

# ---- a filter per column ----
# rows USER PATH - the record links of the table's rows, one a line
rows() { get "$1" "$2" | grep -o '<tr><td><a href="/[a-z]*/[0-9]*">[^<]*' | sed 's/.*">//'; }
check_equal "contacts filtered by account (any case)" 'Smith, &quot;Bo&quot;' \
	"$(rows alice '/contacts?account=ALPHA-t266')"
check_equal "accounts filtered by name" '=SUM(1+1), Alpha' "$(rows alice '/accounts?name=sum(1')"
check_equal "deals filtered by status, the key too" '@Beta renewal' \
	"$(rows alice '/deals?status=closed&key=t266')"
check_equal "two column filters narrow together" "" \
	"$(rows alice '/deals?status=closed&account=alpha')"
get alice '/contacts?account=alpha-t266' > "$TMP/p"
check "the column filter stays in its box" grep -qF \
	'name="account" aria-label="Filter Account" placeholder="Account" value="alpha-t266"' "$TMP/p"
check "the download link carries the view" grep -qF \
	'href="/contacts.csv?sort=last&amp;dir=desc&amp;account=alpha-t266">Download CSV' "$TMP/p"

# ---- an account made from its domain shows it once ----
get alice '/accounts?domain=t266' > "$TMP/p"
check "an automatic account: the domain as its name, the Domain cell empty" grep -qE \
	'<a href="/accounts/[0-9]+">beta-t266.test</a></td><td></td>' "$TMP/p"
check "a named account shows its domain" grep -qE \
	'<a href="/accounts/[0-9]+">=SUM\(1\+1\), Alpha</a></td><td>alpha-t266.test</td>' "$TMP/p"

# ---- sort keys ----
check_equal "a second key orders the ties of the first (account up, name down)" \
	"grace@acme.com erin@acme.com dave@mail.acme.com" \
	"$(get alice '/api/contacts?account=acme.com&sort=account,name&dir=asc,desc' |
		jq -r '[.items[].address] | join(" ")')"
check_equal "a key without a direction takes its column's (threads: most first)" \
	"$(get alice '/api/accounts?sort=threads,name&dir=desc,asc' | jq -c '[.items[].id]')" \
	"$(get alice '/api/accounts?sort=threads,name' | jq -c '[.items[].id]')"
get alice '/accounts?sort=threads&dir=asc' > "$TMP/p"
check "a column head sorts by it first and keeps the others" grep -qF \
	'<a href="?sort=name,threads&amp;dir=asc,asc">Name</a>' "$TMP/p"
check "the current first key's head turns it round" grep -qF \
	'<th class="sorted"><a href="?sort=threads&amp;dir=desc">Threads' "$TMP/p"
get alice '/accounts?sort=name,threads&dir=asc,desc' > "$TMP/p"
check "each key's head is numbered" grep -qF 'Threads ▾<sup title="sort key 2">2</sup>' "$TMP/p"
check_equal "the older sort names still work" \
	"$(get alice '/api/contacts?sort=account' | jq -c '[.items[].id]')" \
	"$(get alice '/api/contacts?sort=domain' | jq -c '[.items[].id]')"

# ---- page size ----
get alice '/accounts?domain=t266&per=1' > "$TMP/p"
check_equal "per=1: one row a page" 1 "$(grep -c '^<tr><td><a' "$TMP/p")"
check "the pager keeps the page size and the filter" grep -qF \
	'href="/accounts?sort=last&amp;dir=desc&amp;domain=t266&amp;per=1&amp;page=2"' "$TMP/p"
check "a size typed into the address is the one selected" grep -qF '<option selected>1</option>' "$TMP/p"
check_equal "page 2 holds the other" beta-t266.test "$(rows alice '/accounts?domain=t266&per=1&page=2')"

# ---- bad parameters ----
while read -r code path; do
	check_equal "$path is $code" "$code" \
		"$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar.alice" "$VIEW_URL$path")"
done <<'EOF2'
400 /accounts?sort=nope
400 /accounts?sort=name,name
400 /accounts?sort=name,last,threads,deals
400 /accounts?sort=name&dir=up
400 /accounts?sort=name&dir=asc,desc
400 /accounts?per=0
400 /accounts?per=501
400 /accounts.csv?sort=address
400 /contacts?sort=status
404 /api/accounts.csv
200 /deals?sort=status,key
EOF2
check_equal "a column filter longer than 200 bytes is a 400" 400 \
	"$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar.alice" \
		"$VIEW_URL/accounts?name=$(head -c 201 /dev/zero | tr '\0' x)")"
