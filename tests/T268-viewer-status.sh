#!/usr/bin/env bash
# T268-viewer-status.sh - status at a glance: who owes a reply and since
# when, when each side last wrote, on the record page, the tables (sortable
# columns, the CSV) and the deals of a record (stale, waiting), against the
# fixtures of tests/viewer/status with known dates.  A thread that shows
# outsiders nothing gives a user who is not inside it only the figures of
# the messages he sent or received: judy, Cc'd on one inbound message of
# the private HR thread, sees that message and not the reply after it;
# alice sees none of it; admin sees all.  A reply that lands ends the wait;
# crmctl forget leaves no per-address figures of the forgotten address.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"
D=$TMP/v
viewer_store "$D" || { notok "the test store is built"; sed 's/^/# /' "$D/import.log"; exit 1; }
ok "the test store is built"
{ printf '[associate]\ndeal subject /\\[(T268-[0-9]+)\\]/\n'; cat "$VT/rules"; } > "$D/rules"
sed -i "s|^RulesFile .*|RulesFile $D/rules|" "$D/base.conf"
printf '%s\n' "key,name,account,contacts,status" \
	"T268-1,Proposal,statusco-t268.test,pat@statusco-t268.test,open" \
	"T268-2,Order change,statusco-t268.test,pat@statusco-t268.test,open" > "$D/deals.csv"
check "the deals are imported" $CRMCTL -c "$D/base.conf" deals import "$D/deals.csv"
check "the status fixtures are imported" $CRMCTL -c "$D/base.conf" import "$VT/status"
viewer_owner "$D"
check "crmview starts (admins inside private threads)" viewer_start main "$D" ViewerAdminsSeePrivate yes
for u in alice judy carol admin; do login "$TMP/jar.$u" $u; done
get() { curl -s -b "$TMP/jar.$1" "$VIEW_URL$2"; }
q() { sqlite3 -readonly "$D/store.db" "$1"; }
STATUSCO=$(q "SELECT id FROM accounts WHERE domain = 'statusco-t268.test'")
QUIETCO=$(q "SELECT id FROM accounts WHERE domain = 'quietco-t268.test'")
PAT=$(q "SELECT id FROM contacts WHERE address = 'pat@statusco-t268.test'")
thread_of() { q "SELECT thread_id FROM messages WHERE msgid = '$1'"; }
A=$(thread_of t268-a1@example.com) C=$(thread_of t268-c1@example.com)
# figures JSON - "in out us them" of a status object (dates, - for null)
figures() {
	jq -r '[.last_inbound, .last_outbound, .waiting_for_us_since, .waiting_for_them_since]
		| map(. // "-" | sub("T09:00:00Z"; "")) | join(" ")'
}
check_equal "the fixtures: the private thread shows outsiders nothing" "participants nothing 3" \
	"$(q "SELECT visibility, outside, messages FROM threads WHERE id = $C" | tr '|' ' ')"

# ---- the thread's own figures ----
check_equal "a thread's last in, last out, waiting for us since its first unanswered message" \
	"2025-01-16 2025-01-13 2025-01-15 -" \
	"$(q "SELECT json_object('last_inbound', strftime('%Y-%m-%dT%H:%M:%SZ', last_in, 'unixepoch'),
		'last_outbound', strftime('%Y-%m-%dT%H:%M:%SZ', last_out, 'unixepoch'),
		'waiting_for_us_since', strftime('%Y-%m-%dT%H:%M:%SZ', wait_us, 'unixepoch'),
		'waiting_for_them_since', strftime('%Y-%m-%dT%H:%M:%SZ', wait_them, 'unixepoch'))
		FROM threads WHERE id = $A" | figures)"
check_equal "its links carry the same figures" "1737018000 1736758800 1736931600 " \
	"$(q "SELECT DISTINCT last_in, last_out, wait_us, coalesce(wait_them, '') FROM links
		WHERE thread_id = $A" | tr '|' ' ')"

# ---- the record: what each user sees ----
# activity USER KIND ID - the figures of the record's "activity"
activity() { get "$1" "/api/$2/$3" | jq '.activity' | figures; }
check_equal "alice (outside the HR thread): the workspace threads only" \
	"2025-01-16 2025-02-01 2025-01-15 2025-02-01" "$(activity alice accounts "$STATUSCO")"
check_equal "judy (Cc'd on one inbound message of it): that message, not the reply after it" \
	"2025-03-03 2025-02-01 2025-01-15 2025-02-01" "$(activity judy accounts "$STATUSCO")"
check_equal "carol (its sender, not on the reply): her two messages" \
	"2025-03-03 2025-03-01 2025-01-15 2025-02-01" "$(activity carol accounts "$STATUSCO")"
check_equal "admin, with ViewerAdminsSeePrivate: the whole thread" \
	"2025-03-03 2025-03-05 2025-01-15 2025-02-01" "$(activity admin accounts "$STATUSCO")"
check_equal "the contact's figures follow the same rule (judy)" \
	"2025-03-03 2025-02-01 2025-01-15 2025-02-01" "$(activity judy contacts "$PAT")"
check_equal "the record's last activity is the last date the user may see" \
	"2025-02-01T09:00:00Z 2025-03-03T09:00:00Z" \
	"$(get alice "/api/accounts/$STATUSCO" | jq -r .activity.last_activity) $(get judy \
		"/api/accounts/$STATUSCO" | jq -r .activity.last_activity)"

get alice "/accounts/$STATUSCO" > "$TMP/page"
check_grep "the page: waiting for our reply, since the first unanswered message" \
	'<dt>Waiting for our reply</dt><dd><strong class="waiting"><time [^>]*>[0-9]* days</time></strong>, since <time datetime="2025-01-15T09:00:00Z">2025-01-15 09:00 UTC' "$TMP/page"
DAYS=$(python3 -c 'import time, calendar; print(int((time.time() - calendar.timegm((2025, 1, 15, 9, 0, 0))) // 86400))')
check_grep "...how long, in whole days" ">$DAYS days</time></strong>, since" "$TMP/page"
check_grep "the page: when they and we last wrote" \
	'<dt>They last wrote</dt><dd><time datetime="2025-01-16T09:00:00Z">2025-01-16 09:00 UTC</time></dd><dt>We last wrote</dt><dd><time datetime="2025-02-01T09:00:00Z">' "$TMP/page"
check_grep "the page: the last contact, how long ago" '<dt>Last contact</dt><dd><time datetime="2025-02-01T09:00:00Z"[^>]*>[0-9]* days</time> ago' "$TMP/page"
check_grep "an open deal that waits for our reply says so" \
	'Order change</a> <span class="badge">open</span><div class="deal-status">last activity <time [^>]*>[0-9]* days</time> ago <span class="badge waiting">waiting for our reply</span>' "$TMP/page"
check_grep "an open deal without mail for 30 days is stale" \
	'Proposal</a> <span class="badge">open</span><div class="deal-status">last activity <time datetime="2025-02-01T09:00:00Z"[^>]*>[0-9]* days</time> ago <span class="badge stale">stale</span>' "$TMP/page"
check_equal "the API gives each deal its activity" "- 2025-02-01 - 2025-02-01" \
	"$(get alice "/api/accounts/$STATUSCO" | jq '.deals[] | select(.key == "T268-1") | .activity' | figures)"

# ---- each conversation of the timeline ----
# waits USER KIND ID THREAD - "us them" of the timeline item of THREAD
waits() {
	get "$1" "/api/$2/$3" | jq -r ".timeline.items[] | select(.id == $4)
		| [.waiting_for_us_since, .waiting_for_them_since] | map(. // \"-\" | sub(\"T09:00:00Z\"; \"\"))
		| join(\" \")"
}
B=$(thread_of t268-b1@example.com)
check_equal "a conversation that waits for our reply says since when" "2025-01-15 -" \
	"$(waits alice accounts "$STATUSCO" "$A")"
check_equal "one that waits for theirs" "- 2025-02-01" "$(waits alice accounts "$STATUSCO" "$B")"
check_equal "the private one, for judy: waiting for us, from the message she got" "2025-03-03 -" \
	"$(waits judy accounts "$STATUSCO" "$C")"
check_equal "...for admin: the reply she was not on makes it wait for them" "- 2025-03-05" \
	"$(waits admin accounts "$STATUSCO" "$C")"
check_grep "the timeline marks it, with how long" \
	"Order question</a> <span class=\"badge waiting\">waiting for us, <time datetime=\"2025-01-15T09:00:00Z\"[^>]*>[0-9]* days</time></span>" \
	"$TMP/page"
check_grep "...and the one that waits for them" \
	'Proposal \[T268-1\]</a> <span class="badge">waiting for them</span>' "$TMP/page"

# ---- the tables ----
# order USER KIND QUERY - the names of the API's rows, comma-separated
order() { get "$1" "/api/$2?$3" | jq -r '[.items[] | .name // .domain] | join(",")'; }
check_equal "accounts by waiting for us: the longest wait first" "statusco-t268.test,quietco-t268.test" \
	"$(order alice accounts 'domain=t268&sort=waiting_us')"
check_equal "...and the other way" "quietco-t268.test,statusco-t268.test" \
	"$(order alice accounts 'domain=t268&sort=waiting_us&dir=desc')"
check_equal "by when they last wrote, for alice: quietco wrote last" \
	"quietco-t268.test,statusco-t268.test" "$(order alice accounts 'domain=t268&sort=last_in')"
check_equal "...for judy, who sees pat's March mail: statusco" \
	"statusco-t268.test,quietco-t268.test" "$(order judy accounts 'domain=t268&sort=last_in')"
check_equal "by waiting for them: the account nobody waits on comes last" \
	"statusco-t268.test,quietco-t268.test" "$(order alice accounts 'domain=t268&sort=waiting_them')"
check_equal "by when we last wrote, for admin: the HR reply counts" \
	"2025-03-05" "$(get admin '/api/accounts?domain=t268&sort=last_out' | jq '.items[0]' | figures | cut -d' ' -f2)"
check_equal "contacts carry the figures too (judy)" "2025-03-03 2025-02-01 2025-01-15 2025-02-01" \
	"$(get judy '/api/contacts?address=pat@statusco' | jq '.items[0]' | figures)"
get alice '/accounts?domain=t268&sort=waiting_us' > "$TMP/table"
check_grep "the table's status columns, sortable: the sorted one reverses" \
	'<th class="sorted"><a href="?sort=waiting_us&amp;dir=desc&amp;domain=t268">Waiting for us' "$TMP/table"
check_grep "...another one sorts first, the longest wait first" \
	'<a href="?sort=waiting_them,waiting_us&amp;dir=asc,asc&amp;domain=t268">Waiting for them</a>' "$TMP/table"
check_grep "...a wait shown as how long" \
	'<td class="date"><time datetime="2025-01-15T09:00:00Z" title="2025-01-15 09:00 UTC">[0-9]* days</time></td>' "$TMP/table"
{ printf '\357\273\277'; printf '%s\r\n' \
	"id,name,domain,waiting_for_us_since,waiting_for_them_since,last_inbound,last_outbound,last_activity,threads,open_deals" \
	"$STATUSCO,statusco-t268.test,statusco-t268.test,2025-01-15T09:00:00Z,2025-02-01T09:00:00Z,2025-01-16T09:00:00Z,2025-02-01T09:00:00Z,2025-02-01T09:00:00Z,2,2" \
	"$QUIETCO,quietco-t268.test,quietco-t268.test,2025-01-20T09:00:00Z,,2025-01-20T09:00:00Z,2025-01-05T09:00:00Z,2025-01-20T09:00:00Z,1,0"; } \
	> "$TMP/want.csv"
get alice '/accounts.csv?domain=t268&sort=waiting_us' > "$TMP/got.csv"
check "the CSV of the view holds the status, exactly" diff "$TMP/want.csv" "$TMP/got.csv"
check_equal "the last exchange with the client, in the CSV for judy" \
	"2025-03-03T09:00:00Z" "$(get judy '/accounts.csv?domain=statusco' | sed -n 2p | cut -d, -f6)"

# ---- nothing of the private thread reaches alice ----
for p in "/api/accounts?domain=t268" "/api/contacts?address=t268" "/accounts.csv?domain=t268" \
	"/contacts.csv?address=t268" "/api/accounts/$STATUSCO" "/accounts/$STATUSCO" "/api/contacts/$PAT"; do
	get alice "$p"
done > "$TMP/alice-all"
check "no date of the private thread in any of alice's views" \
	sh -c "! grep -q '2025-03-0' '$TMP/alice-all'"

# ---- a reply ends the wait ----
cat > "$TMP/a6-out.eml" <<'EOF'
From: Alice Adams <alice@example.com>
To: Pat Lee <pat@statusco-t268.test>
Subject: Re: [T268-2] Order question
Date: Fri, 17 Jan 2025 09:00:00 +0000
Message-ID: <t268-a6@example.com>
In-Reply-To: <t268-a5@statusco-t268.test>
References: <t268-a5@statusco-t268.test>

Changed.
EOF
check "alice's reply is imported" $CRMCTL -c "$D/base.conf" import "$TMP/a6-out.eml"
check_equal "the reply ends the thread's wait: the account now waits on them since it" \
	"2025-01-16 2025-02-01 - 2025-01-17" "$(activity alice accounts "$STATUSCO")"
check_equal "...and the tables, sorted by waiting for us, put quietco first" \
	"quietco-t268.test,statusco-t268.test" "$(order alice accounts 'domain=t268&sort=waiting_us')"

# ---- forget ----
check_equal "the private thread keeps per-address figures of lee (Cc'd once)" 1 \
	"$(q "SELECT count(*) FROM thread_people WHERE thread_id = $C AND address = 'lee@otherco-t268.test'")"
check "crmctl forget lee" sh -c "$CRMCTL -c '$D/base.conf' forget lee@otherco-t268.test > '$TMP/forget.out' 2>&1"
check_equal "...leaves none of his" 0 "$(q "SELECT count(*) FROM thread_people WHERE address = 'lee@otherco-t268.test'")"
check_equal "...and the others' stay" 1 \
	"$(q "SELECT count(*) FROM thread_people WHERE thread_id = $C AND address = 'judy@example.com'")"
check_folds "each record's status figures equal its links' after all of it" "$D/store.db"
