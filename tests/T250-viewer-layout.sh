#!/usr/bin/env bash
# T250-viewer-layout.sh - crmview's pages fit a narrow screen: at 1400, 400
# and 360 px wide, every kind of page (records tables, each kind of record,
# unassigned, mailboxes, a thread, search, the login form, an error page)
# never scrolls sideways and no text runs out of its box, for an admin and
# for a member whose own address is 150 characters without a break.  Besides
# the viewer's store, a thread of our own carries the worst mail: a
# 300-character subject without a space, a 200-character local part at a
# 190-character domain (its account's is 68), a 200-character display name,
# a 2,000-character body line, and a deal whose key and name have no break.
# Screenshots of each page are kept in $CRM_BUILD/layout-shots/.  Skipped
# without chromium.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"

if ! command -v chromium > /dev/null 2>&1; then
	skip "narrow layouts" "chromium is not installed (apt-get install chromium)"
	exit 0
fi
# rep CHAR N - CHAR N times
rep() { printf "%${2}s" "" | tr ' ' "$1"; }
SUBJ=Quarterly$(rep S 291)
LOCAL=$(rep l 200)
REG=$(rep f 60).example
DOMAIN=$(rep d 60).$(rep e 60).$REG
LONG=$LOCAL@$DOMAIN
NAME=Name$(rep N 196)
MEMBER=$(rep m 150)@example.com
DEAL=DEAL-$(rep K 120)
mkdir -p "$TMP/long"
cat > "$TMP/long/1-long-out.eml" <<MAIL
Message-ID: <layout-1@example.com>
Date: Tue, 04 Mar 2025 10:00:00 +0100
From: Alice Hart <alice@example.com>
To: $NAME <$LONG>
Subject: $SUBJ
Content-Type: text/plain; charset=UTF-8

layoutprobe: the line below has no space.
$(rep B 2000)
MAIL
cat > "$TMP/long/2-long-in.eml" <<MAIL
Message-ID: <layout-2@$DOMAIN>
In-Reply-To: <layout-1@example.com>
References: <layout-1@example.com>
Date: Tue, 04 Mar 2025 11:00:00 +0100
From: $NAME <$LONG>
To: Alice Hart <alice@example.com>
Subject: Re: $SUBJ
Content-Type: text/plain; charset=UTF-8

layoutprobe answered, $(rep R 1500)
MAIL
printf 'key,name,account,contacts,status\n%s,%s,%s,%s,open\n' "$DEAL" "Deal$(rep D 200)" \
	"$REG" "$LONG" > "$TMP/deals.csv"

D=$TMP/v
viewer_store "$D" || { notok "the test store is built"; sed 's/^/# /' "$D/import.log"; exit 1; }
C="$CRMCTL -c $D/base.conf"
# viewer_owner again: what crmctl wrote now goes to the user crmview runs as
if $C import "$TMP/long" > "$D/import-long.log" 2>&1 && $C deals import "$TMP/deals.csv" > /dev/null &&
   $C user add "$MEMBER" --name "$NAME" > /dev/null && echo pw-long-2025 | $C user passwd "$MEMBER" > /dev/null; then
	viewer_owner "$D"
	ok "the long-text thread, its deal and the long-address member are added"
else
	notok "the long-text thread, its deal and the long-address member are added"
	sed 's/^/# /' "$D/import-long.log"
	exit 1
fi
q() { sqlite3 -readonly "$D/store.db" "$1"; }
LONGT=$(q "SELECT thread_id FROM messages WHERE msgid = 'layout-1@example.com'")
NORMT=$(q "SELECT thread_id FROM messages WHERE msgid = '4b7e1c02-9a3f-4d6e-b1a8-5f20c3e7a9d1@example.com'")
ACC=$(q "SELECT account_id FROM links WHERE thread_id = '$LONGT' AND account_id IS NOT NULL")
CON=$(q "SELECT id FROM contacts WHERE address = '$LONG'")
DEALID=$(q "SELECT id FROM deals WHERE key = '$DEAL'")
check_equal "the long reply joined the long thread" "$LONGT" \
	"$(q "SELECT thread_id FROM messages WHERE msgid = 'layout-2@$DOMAIN'")"
check "the long account, contact and deal exist" test -n "$ACC" -a -n "$CON" -a -n "$DEALID"
check "crmview starts" viewer_start main "$D"
SHOTS=$CRM_BUILD/layout-shots
rm -rf "$SHOTS"; mkdir -p "$SHOTS"
timeout 300 python3 "$VT/layout.py" "$VIEW_URL" "$SHOTS" "$MEMBER" "$LONGT" "$NORMT" \
	"$ACC" "$CON" "$DEALID" || notok "the layout walk ran to its end"
check_equal "a screenshot of each page at each width is kept" 75 \
	"$(ls "$SHOTS"/*.png 2> /dev/null | wc -l)"
exit 0
