#!/usr/bin/env bash
# T267-viewer-search.sh - crmview's search by conversation: one hit per
# thread (its newest matching message, how many match), filters by record
# (account, contact, deal: one the user may see, else 404), by day (since
# and until, both inclusive, in the pages' zone), by direction and by "has
# an attachment" (only messages the user sees in full: an attachment is
# never found through a thread shown as metadata), and the records whose
# names hold the words, as the tables show them to the same user.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"
D=$TMP/v
viewer_tables_start "$D"
get() { curl -s -b "$TMP/jar.$1" "$VIEW_URL$2"; }
code() { curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar.$1" "$VIEW_URL$2"; }
q() { sqlite3 -readonly "$D/store.db" "$1"; }
# subjects USER QUERY - the subjects of the API's hits, newest first, joined by |
subjects() { get "$1" "/api/search?$2" | jq -r '[.items[].subject] | join("|")'; }
ALPHA=$(q "SELECT id FROM accounts WHERE domain = 'alpha-t266.test'")
GAMMA=$(q "SELECT id FROM accounts WHERE domain = 'gamma-t266.test'")
BO=$(q "SELECT id FROM contacts WHERE address = 'bo@alpha-t266.test'")
D1=$(q "SELECT id FROM deals WHERE key = 'DEAL-T266-1'")
ONE=$(q "SELECT thread_id FROM messages WHERE msgid = 't266-a1@alpha-t266.test'")
check_equal "the fixtures: the first alpha thread holds two messages with T266" 2 \
	"$(q "SELECT count(*) FROM messages WHERE thread_id = $ONE AND subject LIKE '%T266%'")"

# ---- one hit per thread ----
get alice '/api/search?q=t266' > "$TMP/s"
check_equal "a thread is one hit however many of its messages match" 1 \
	"$(jq "[.items[] | select(.thread == $ONE)] | length" "$TMP/s")"
check_equal "...its newest matching message, and how many match" "Re: T266 alpha one 2" \
	"$(jq -r ".items[] | select(.thread == $ONE) | \"\(.subject) \(.hits)\"" "$TMP/s")"
check_equal "total counts threads, hits counts messages" "4 5" "$(jq -r '"\(.total) \(.hits)"' "$TMP/s")"
get alice '/search?q=t266' > "$TMP/p"
check_equal "the page lists each thread once" 4 "$(grep -o '<li><div class="hit-head">' "$TMP/p" | wc -l)"
check "the page says how many messages of a thread match" grep -qF '2 messages match' "$TMP/p"
check "the page counts both" grep -qF '4 conversation(s), 5 message(s) for <q>t266</q>' "$TMP/p"

# ---- filters ----
check_equal "direction=in: inbound hits only" "Re: T266 alpha one|Drawings T266" \
	"$(subjects alice 'q=t266&direction=in' | tr '|' '\n' | sort -r | paste -sd'|')"
check_equal "direction=out" "T266 beta|T266 alpha two [DEAL-T266-1]" \
	"$(subjects alice 'q=t266&direction=out' | tr '|' '\n' | sort -r | paste -sd'|')"
check_equal "since and until are days, both inclusive" "Re: T266 alpha one" \
	"$(subjects alice 'q=t266&since=2025-03-04&until=2025-03-04')"
check_equal "until alone" "T266 beta" "$(subjects alice 'q=t266&until=2025-02-28')"
check_equal "an attachment the user sees in full" "Drawings T266|Re: T266 alpha one" \
	"$(subjects alice 'q=t266&attachment=1')"
check_equal "carol sees the drawings' thread as metadata: found by its people" metadata \
	"$(get carol '/api/search?q=zed' | jq -r '.items[].access')"
check_equal "...but never through its attachment" 0 \
	"$(get carol '/api/search?q=zed&attachment=1' | jq '.total')"
check_equal "account=ID: the threads on that account" "T266 alpha two [DEAL-T266-1]" \
	"$(subjects alice "q=t266&account=$ALPHA")"
check_equal "contact=ID" "T266 alpha two [DEAL-T266-1]" "$(subjects alice "q=t266&contact=$BO")"
check_equal "deal=ID" "T266 alpha two [DEAL-T266-1]" "$(subjects alice "q=t266&deal=$D1")"
check_equal "a record the user may not see is no such record" 404 \
	"$(code alice "/search?q=t266&account=$GAMMA")"
check_equal "...an insider finds its thread" "T266 gamma private" \
	"$(subjects carol "q=t266&account=$GAMMA")"
check_equal "filters narrow together" "" "$(subjects alice "q=t266&account=$ALPHA&direction=in")"
get alice "/search?q=t266&account=$ALPHA&direction=in&since=2025-03-01&attachment=1" > "$TMP/p"
check "the form keeps the filters" grep -qF \
	'name="since" size="10" placeholder="YYYY-MM-DD" value="2025-03-01"' "$TMP/p"
check "...the direction" grep -qF '<option value="in" selected>inbound</option>' "$TMP/p"
check "...the attachment box" grep -qF 'name="attachment" value="1" checked>' "$TMP/p"
check "...and the record, named" grep -qF \
	"<input type=\"hidden\" name=\"account\" value=\"$ALPHA\"> <span class=\"on\">on the account <a href=\"/accounts/$ALPHA\">=SUM(1+1), Alpha</a>" "$TMP/p"
get alice "/accounts/$ALPHA" > "$TMP/p"
check "a record page searches its own conversations" grep -qF \
	"<input type=\"hidden\" name=\"account\" value=\"$ALPHA\"><input type=\"text\" name=\"q\"" "$TMP/p"

# ---- record names ----
# names WORDS - the names of the records the API's search finds, joined by |
names() { get alice "/api/search?q=$1" | jq -r '[.records.accounts.items[].name,
		.records.contacts.items[].name, .records.deals.items[].name] | join("|")'; }
check_equal "the words find records by name, domain or address" '=SUM(1+1), Alpha|Smith, "Bo"' \
	"$(names alpha)"
check_equal "...deals by name" '-Discount for Bo' "$(names discount)"
check_equal "...and by key" '@Beta renewal' "$(names deal-t266-2)"
get alice '/search?q=alpha' > "$TMP/p"
check "the page links them" grep -qF \
	"<p class=\"records\">Accounts: <a href=\"/accounts/$ALPHA\">=SUM(1+1), Alpha</a></p>" "$TMP/p"
check_equal "a private thread's account is not found by an outsider" 0 \
	"$(get alice '/api/search?q=gamma' | jq '.records.accounts.total')"
check_equal "...and is by an insider" gamma-t266.test \
	"$(get carol '/api/search?q=gamma' | jq -r '.records.accounts.items[].domain')"

# ---- bad parameters ----
while read -r c path; do
	check_equal "$path is $c" "$c" "$(code alice "$path")"
done <<EOF2
400 /search?q=t266&direction=sideways
400 /search?q=t266&since=2025-13-01
400 /search?q=t266&until=yesterday
400 /search?q=t266&attachment=yes
400 /search?q=t266&account=$ALPHA&deal=$D1
400 /search?q=t266&account=x
404 /search?q=t266&deal=999999
200 /search?q=t266&direction=
EOF2
