#!/usr/bin/env bash
# T255-viewer-words.sh - what crmview's pages say, in words a member reads:
# times in ViewerTimeZone with the zone's abbreviation (a January and a July
# date of New York, standard and daylight time; UTC by default, labelled;
# the <time datetime> attributes and the API stay UTC; a day in a table is
# the zone's day), a zone that is no zone refusing to start with FILE:LINE;
# "Why it is here" in plain words for members ("On acme.com because Dave
# Wilson (mail.acme.com) is in it"), the rules (file:line, text) for admins
# only, unassigned reasons in words on the thread page and the unassigned
# table, a link back to the thread's record, and "Private" on a private
# thread for those inside it.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"
D=$TMP/v
viewer_store "$D" || { notok "the test store is built"; sed 's/^/# /' "$D/import.log"; exit 1; }
ok "the test store is built"

# a July message, 02:30 UTC on 2 July: 22:30 on 1 July in New York (EDT)
mkdir -p "$TMP/july"
cat > "$TMP/july/july.eml" <<'EOF'
From: Alice Adams <alice@example.com>
To: Sam Summers <sam@summer-words.test>
Subject: Summer order TOKEN-T255-JULY
Date: Wed, 02 Jul 2025 02:30:00 +0000
Message-ID: <t255-july@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Sam, the summer order is on its way.
EOF
check "a July message is added" $CRMCTL -c "$D/base.conf" import "$TMP/july"
q() { sqlite3 -readonly "$D/store.db" "$1"; }
JAN=$(q "SELECT id FROM threads WHERE subject = 'Q3 order forecast'")
ACME=$(q "SELECT id FROM accounts WHERE domain = 'acme.com'")
DAVE=$(q "SELECT id FROM contacts WHERE address = 'dave@mail.acme.com'")
JUL=$(q "SELECT thread_id FROM messages WHERE msgid = 't255-july@example.com'")
JULACC=$(q "SELECT id FROM accounts WHERE domain = 'summer-words.test'")
check_equal "the fixtures: the Acme thread starts 2025-01-13 08:12:04 UTC" "2025-01-13 08:12:04" \
	"$(q "SELECT datetime(first_date, 'unixepoch') FROM threads WHERE id = $JAN")"

# page USER PATH - the body of GET PATH as USER on the last crmview started
page() { curl -s -b "$TMP/jar.$1" "$VIEW_URL$2"; }
# has DESC TEXT - the last page fetched ($TMP/p) holds TEXT (fixed string)
has() { if grep -qF -- "$2" "$TMP/p"; then ok "$1"; else notok "$1"; echo "# no '$2' in the page"; fi; }
hasnt() { if grep -qF -- "$2" "$TMP/p"; then notok "$1"; grep -oF -- "$2" "$TMP/p" | head -3 | sed 's/^/# found: /'; else ok "$1"; fi; }
# why - the "Why it is here" section of the last page fetched
why() { grep -o '<section class="why">.*</section>' "$TMP/p"; }

# ---- times: UTC by default, labelled ----
check "crmview starts (default zone)" viewer_start main "$D"
for u in alice carol admin; do login "$TMP/jar.$u" $u; done
page alice "/threads/$JAN" > "$TMP/p"
has "default: a time is UTC, labelled UTC" \
	'<time datetime="2025-01-13T08:12:04Z">2025-01-13 08:12 UTC</time>'
page alice "/threads/$JUL" > "$TMP/p"
has "default: the July time too" '<time datetime="2025-07-02T02:30:00Z">2025-07-02 02:30 UTC</time>'
page alice "/accounts" > "$TMP/p"
has "default: a day in a table is the UTC day, its time as the title" \
	'<time datetime="2025-07-02T02:30:00Z" title="2025-07-02 02:30 UTC">2025-07-02</time>'

# ---- times: America/New_York, standard and daylight time ----
check "crmview starts with ViewerTimeZone America/New_York" viewer_start ny "$D" \
	ViewerTimeZone America/New_York
for u in alice carol admin; do login "$TMP/jar.$u" $u; done
page alice "/threads/$JAN" > "$TMP/p"
has "New York in January: EST (UTC-5), the datetime attribute UTC" \
	'<time datetime="2025-01-13T08:12:04Z">2025-01-13 03:12 EST</time>'
hasnt "no time on the page is left in UTC" ' UTC</time>'
page alice "/threads/$JUL" > "$TMP/p"
has "New York in July: EDT (UTC-4), the day before UTC's" \
	'<time datetime="2025-07-02T02:30:00Z">2025-07-01 22:30 EDT</time>'
page alice "/accounts" > "$TMP/p"
has "a day in a table is New York's day, the time and zone as its title" \
	'<time datetime="2025-07-02T02:30:00Z" title="2025-07-01 22:30 EDT">2025-07-01</time>'
page alice "/accounts/$JULACC" > "$TMP/p"
has "the record page's timeline too" 'title="2025-07-01 22:30 EDT">2025-07-01</time>'
check_equal "the API keeps UTC" "2025-01-13T08:12:04Z 2025-07-02T02:30:00Z" \
	"$(page alice "/api/threads/$JAN" | python3 -c 'import json, sys; print(json.load(sys.stdin)["first_date"], end=" ")'
	   page alice "/api/threads/$JUL" | python3 -c 'import json, sys; print(json.load(sys.stdin)["first_date"])')"

# ---- a zone that is no zone: crmview does not start, FILE:LINE says why ----
# bad NAME ZONE WHAT - crmview with ViewerTimeZone ZONE exits 2 naming its line and WHAT
bad() {
	local name=$1 zone=$2 what=$3 line
	viewer_start "$name" "$D" ViewerTimeZone "$zone"
	wait "$VIEW_PID" 2> /dev/null
	local rc=$?
	line=$(grep -n '^ViewerTimeZone' "$D/$name.conf" | cut -d: -f1)
	if [ "$rc" = 2 ] && grep -qF "$D/$name.conf:$line: $what" "$D/$name.out" &&
	   ! grep -q 'listening on' "$D/$name.out"; then
		ok "ViewerTimeZone $zone: refused at start (exit 2, FILE:LINE)"
	else
		notok "ViewerTimeZone $zone: refused at start (exit 2, FILE:LINE)"
		echo "# exit $rc"; sed 's/^/# /' "$D/$name.out" | head -5
	fi
}
bad bad1 Mars/Olympus_Mons "not a time zone: no such zone file"
bad bad2 America "not a time zone: the file is not a zone file"
bad bad3 ../../../etc/passwd "expected an IANA time zone name"
bad bad4 /etc/localtime "expected an IANA time zone name"
bad bad5 zone.tab "not a time zone: the file is not a zone file"
$CRMCTL -c "$D/bad1.conf" status > "$TMP/crmctl.out" 2>&1
check_grep "crmctl refuses the same file, FILE:LINE" "bad1.conf:[0-9]*: not a time zone" "$TMP/crmctl.out"

# ---- why it is here, in words; the rules for admins only ----
check "crmview starts again (default zone)" viewer_start words "$D"
for u in alice carol admin; do login "$TMP/jar.$u" $u; done
page alice "/threads/$JAN" > "$TMP/p"
has "member: the account in words, through whom" \
	"On <a href=\"/accounts/$ACME\">acme.com</a> because Dave Wilson (mail.acme.com) is in it."
has "member: a contact in words, and why he is one" \
	"Listed under <a href=\"/contacts/$DAVE\">Dave Wilson</a> (dave@mail.acme.com), who is in it, a contact since someone here wrote to them."
has "member: who can read it, in words" '<li class="vis">Everyone here can read it.</li>'
why > "$TMP/why"; mv "$TMP/why" "$TMP/p"
hasnt "member: no rule in \"Why it is here\"" 'class="rule"'
hasnt "member: no rule file:line" 'built-in:'
page alice "/threads/$JAN" > "$TMP/p"
hasnt "member: the message's log line names no rule either" 'class="where"'
page admin "/threads/$JAN" > "$TMP/p"
has "admin: the words" 'because Dave Wilson (mail.acme.com) is in it.'
has "admin: and the rule that linked the account (file:line, text)" \
	'<span class="where">built-in:19</span> <code>account auto</code>'
has "admin: and the rule that made the contact" \
	'made a contact by <span class="rule"><span class="where">built-in:12</span> <code>policy sent</code>'
has "admin: and the visibility rule" 'tests/viewer/rules:11</span> <code>workspace</code>'

# ---- unassigned, in words ----
UN=$(q "SELECT id FROM threads WHERE unassigned = 'no external participant is a contact' ORDER BY id LIMIT 1")
page alice "/threads/$UN" > "$TMP/p"
has "member: a thread on no record says why in words" \
	'<li class="unassigned">Not on any record: Nobody on it from outside is a contact yet.</li>'
hasnt "member: not in the rules' words" 'no external participant is a contact'
page alice /unassigned > "$TMP/p"
has "member: the unassigned table in words" '<td class="why">Nobody on it from outside is a contact yet.</td>'
hasnt "member: the unassigned table not in the rules' words" 'no external participant is a contact'
page admin /unassigned > "$TMP/p"
has "admin: the words and the stored reason" \
	'Nobody on it from outside is a contact yet. <span class="rule"><code>no external participant is a contact</code></span>'

# ---- the back link, the Private marker ----
page alice "/threads/$JAN" > "$TMP/p"
has "a thread page links back to its account, above the subject" \
	"<nav class=\"back\"><a href=\"/accounts/$ACME\" rel=\"up\">← acme.com</a></nav><h1>"
check_equal "the back link opens the account" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar.alice" "$VIEW_URL/accounts/$ACME")"
page alice "/threads/$JUL" > "$TMP/p"
has "a thread of a new account links back to it" "<nav class=\"back\"><a href=\"/accounts/$JULACC\" rel=\"up\">"
hasnt "a thread for the workspace is not marked private" 'badge private'
HR=$(q "SELECT id FROM threads WHERE subject LIKE 'Salary review%'")
page carol "/threads/$HR" > "$TMP/p"
has "carol, inside the private HR thread, sees it marked Private" '<span class="badge private"'
has "...next to its subject" 'Salary review 2025 - confidential <span class="badge private"'
has "...and why, in words" 'The people on it can read it; everyone else sees nothing of it. Reason: “hr”.'
PV=$(q "SELECT id FROM threads WHERE vis_reason = 'marked private'")
page carol "/threads/$PV" > "$TMP/p"
has "a thread the sender marked private says so" 'The sender marked it private.'
has "...and is marked Private" '>Private</span></h1>'
check_equal "alice, outside it, does not see the HR thread at all" 404 \
	"$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/jar.alice" "$VIEW_URL/threads/$HR")"

# ---- inbound mail not authenticated (require-auth), in words ----
A=$TMP/auth
mkdir -p "$A/mail"
printf '[capture]\nrequire-auth dmarc\n[associate]\naccount auto\ncontacts\ndeal subject /\\[(DEAL-\\d+)\\]/\n[visibility]\nworkspace\n' > "$A/rules"
cat > "$A/mail/deal.eml" <<'EOF'
From: Alice Adams <alice@example.com>
To: Dora Deal <dora@deal-words.test>
Subject: [DEAL-77] Proposal
Date: Fri, 07 Mar 2025 10:00:00 +0000
Message-ID: <t255-deal@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Dora, our proposal.
EOF
cat > "$A/mail/spoof.eml" <<'EOF'
From: Mallory <mallory@spoof-words.test>
To: Alice Adams <alice@example.com>
Subject: Urgent wire transfer
Date: Thu, 06 Mar 2025 10:00:00 +0000
Message-ID: <t255-spoof@spoof-words.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Please pay.
EOF
sed -e "s|^Database .*|Database $A/store.db|" -e "s|^RulesFile .*|RulesFile $A/rules|" \
	-e "s|^ViewerSessionKeyFile .*|ViewerSessionKeyFile $A/session.key|" "$D/base.conf" > "$A/base.conf"
$CRMCTL -c "$A/base.conf" import "$A/mail" > "$A/import.log" 2>&1 &&
	$CRMCTL -c "$A/base.conf" user add alice@example.com > /dev/null 2>&1 &&
	echo pw-alice-2025 | $CRMCTL -c "$A/base.conf" user passwd alice@example.com > /dev/null
viewer_owner "$A"
check_equal "the spoofed thread is unassigned: not authenticated" \
	"inbound mail not authenticated: links nobody" \
	"$(sqlite3 -readonly "$A/store.db" "SELECT unassigned FROM threads WHERE subject LIKE 'Urgent%'")"
check "crmview starts on that store" viewer_start auth "$A"
login "$TMP/jar.alice" alice
page alice /unassigned > "$TMP/p"
has "member: not authenticated, in words" \
	"The sender's mail could not be verified (not authenticated), so it is filed under nobody."
hasnt "member: not in the rules' words" 'links nobody'
DEALT=$(sqlite3 -readonly "$A/store.db" "SELECT id FROM threads WHERE subject = '[DEAL-77] Proposal'")
DEAL=$(sqlite3 -readonly "$A/store.db" "SELECT id FROM deals WHERE key = 'DEAL-77'")
page alice "/threads/$DEALT" > "$TMP/p"
has "member: a deal found in the subject, in words" \
	"On the deal <a href=\"/deals/$DEAL\">DEAL-77</a> because its subject names <b>DEAL-77</b>."
has "...and the thread links back to its account first" "<nav class=\"back\"><a href=\"/accounts/"
