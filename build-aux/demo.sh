#!/usr/bin/env bash
# demo.sh - `make demo`: crmilter behind a private Postfix, with a sample conversation
#
# On a Debian 12 machine (as root): installs what is missing
# (build-aux/deps.sh), builds, starts a private Postfix on loopback (its own
# configuration, queue and ports; the system Postfix is not touched) relaying
# to smtp-sink, and crmilter on a unix socket with the embedded SQLite store.
# Then it sends a sample conversation through Postfix -- the company
# (example.com) writing with two client companies (acme.com, globex.com) and
# a free-mail contact, plus a newsletter and a bounce that must create no
# contacts -- prints what was logged and the crmctl commands to look
# further, and waits; Ctrl-C stops everything cleanly.
#
# DEMO_DIR=DIR keeps the demo's files there (default: a fresh /tmp dir);
# BUILD=DIR builds there (default build/);
# DEMO_NO_WAIT=1 stops right after printing (also when stdin is no terminal).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (sudo make demo): it installs packages and starts a private Postfix" >&2
	exit 1
fi
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "packages"
sh build-aux/deps.sh --missing || exit 1
say "build"
BUILD_DIR=${BUILD:-build}
make -s BUILD="$BUILD_DIR" all || exit 1
export CRM_BUILD=$TOP/$BUILD_DIR
[ -x "$CRM_BUILD/crmilter" ] || { echo "demo: $BUILD_DIR/crmilter was not built" >&2; exit 1; }

. "$TOP/tests/milter/postfix.sh"
D=${DEMO_DIR:-$(mktemp -d /tmp/crmilter-demo.XXXXXX)}
mkdir -p "$D"
chmod 711 "$D"
PF=$D/postfix
stop_all() {
	trap - INT TERM EXIT
	say "stopping"
	pf_stop "$PF"
	crm_stop TERM
	sink_stop
	kill $(jobs -p) 2> /dev/null	# whatever else this script started (the sleep)
	echo "stopped; the demo's files stay in $D (store: $D/store/crm.db)"
	exit 0
}
trap stop_all INT TERM EXIT

crm_user
mkdir -p "$D/run" "$D/store"
chgrp postfix "$D/run"
chmod 750 "$D/run"
chown "$CRM_USER" "$D/store"
SMTP=$(free_port); SUB=$(free_port); SINK=$(free_port)
cat > "$D/crmilter.conf" <<EOF
# the demo's crmilter.conf (see contrib/crmilter.conf.example)
Domains example.com
Database $D/store/crm.db
FreemailDomains $TOP/contrib/freemail-domains.txt
SpoolDirectory $D/spool
Socket unix:$D/run/crmilter.sock
PidFile $D/run/crmilter.pid
# only the submission service (ORIGINATING) counts as ours: the demo's
# "outside world" also connects from 127.0.0.1
InternalHosts 192.0.2.0/24
EOF
say "start: smtp-sink :$SINK, crmilter, Postfix smtpd :$SMTP and submission :$SUB (loopback)"
pf_setup "$PF" "$SMTP" "$SUB" "$SINK" "unix:$D/run/crmilter.sock"
sink_start "$D/sink" "$SINK"
crm_start "$D/crmilter.conf" "$D/crmilter.log" || { cat "$D/crmilter.log"; exit 1; }
pf_start "$PF" || { cat "$PF/log/start.out"; exit 1; }

# mail PORT FROM TO MESSAGE-ID SUBJECT BODY [HEADER...] - one message through Postfix
mail() {
	local port=$1 from=$2 to=$3 id=$4 subject=$5 body=$6; shift 6
	local h=()
	for x in "$@"; do h+=(--header "$x"); done
	swaks -n -S --server "127.0.0.1:$port" --from "$from" --to "$to" \
		--header "Message-Id: <$id>" --header "Subject: $subject" "${h[@]}" \
		--body "$body" || echo "demo: swaks failed for $id" >&2
}
say "a sample conversation"
mail "$SUB" alice@example.com dave@acme.com q1@example.com "Quote for 500 widgets" \
	"Hi Dave, as promised: 500 widgets at 4.20 EUR each. Alice" "From: Alice Adams <alice@example.com>"
mail "$SMTP" dave@acme.com alice@example.com r1@acme.com "Re: Quote for 500 widgets" \
	"Thanks Alice, can you do 4.00 for 1000? Dave" "From: Dave Doe <dave@acme.com>" \
	"In-Reply-To: <q1@example.com>" "References: <q1@example.com>" "Cc: erin@acme.com"
mail "$SUB" alice@example.com dave@acme.com,erin@acme.com q2@example.com "Re: Quote for 500 widgets" \
	"Deal at 4.00 for 1000. Alice" "From: Alice Adams <alice@example.com>" \
	"In-Reply-To: <r1@acme.com>" "References: <q1@example.com> <r1@acme.com>"
mail "$SUB" bob@example.com frank@globex.com g1@example.com "Onboarding call" \
	"Frank, does Thursday 10:00 work? Bob" "From: Bob Brown <bob@example.com>"
mail "$SMTP" frank@globex.com bob@example.com g2@globex.com "Re: Onboarding call" \
	"Thursday works. Frank" "From: Frank Foster <frank@globex.com>" "In-Reply-To: <g1@example.com>"
mail "$SUB" alice@example.com carol.consultant@gmail.com,bob@example.com f1@example.com "Workshop dates" \
	"Carol, here are the workshop dates (Bob in Bcc). Alice" "From: Alice Adams <alice@example.com>" \
	"To: carol.consultant@gmail.com"
mail "$SMTP" carol.consultant@gmail.com alice@example.com f2@gmail.com "Re: Workshop dates" \
	"Great, see you then! Carol" "From: Carol <carol.consultant@gmail.com>" "In-Reply-To: <f1@example.com>"
mail "$SUB" alice@example.com bob@example.com i1@example.com "Lunch?" "12:30?" \
	"From: Alice Adams <alice@example.com>"
mail "$SMTP" news@mailer.shopco.com alice@example.com n1@mailer.shopco.com "Spring sale: 20% off" \
	"Our spring sale starts today." "From: ShopCo <news@mailer.shopco.com>" \
	"List-Unsubscribe: <mailto:unsub@mailer.shopco.com>" "Precedence: bulk"
mail "$SMTP" "<>" alice@example.com b1@mx.acme.com "Undelivered Mail Returned to Sender" \
	"This is the mail system at host mx.acme.com. <nobody@acme.com>: user unknown" \
	"From: MAILER-DAEMON@mx.acme.com (Mail Delivery System)" "Auto-Submitted: auto-replied"

pf_wait_empty "$PF" 30
i=0; while [ -n "$(ls -A "$D/spool/new" 2> /dev/null)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5

C="$CRM_BUILD/crmctl -c $D/crmilter.conf"
say "what crmilter logged (one line per message)"
grep -E 'message-id=' "$D/crmilter.log"
say "$C stats"
$C stats
say "$C threads"
$C threads
say "$C contacts     (no newsletter sender, no MAILER-DAEMON)"
$C contacts
say "$C accounts     (gmail.com is free mail: no account)"
$C accounts
say "$C spool status"
$C spool status 2> /dev/null || echo "(crmctl spool needs the Makefile line that links milter/spool.o)"
# ---- crmview: the read-only viewer, its users, a private HR thread ----
say "crmview: rules with a private HR thread, users, the viewer"
cat > "$D/rules" <<'RULES'
# the demo's rules: Alice's and Bob's team, and HR mail for its participants only
team sales = alice@example.com bob@example.com
[visibility]
private "hr" if participant hr@example.com
workspace
RULES
echo "RulesFile $D/rules" >> "$D/crmilter.conf"
mail "$SMTP" paula@payroll-partner.de hr@example.com h1@payroll-partner.de \
	"Salary review 2025 - confidential" "Dear HR, the 2025 salary bands are attached. Paula" \
	"From: Paula Brandt <paula@payroll-partner.de>" "Cc: carol@example.com"
pf_wait_empty "$PF" 30
i=0; while [ -n "$(ls -A "$D/spool/new" 2> /dev/null)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
$C rules apply > "$D/rules-apply.log" 2>&1 || cat "$D/rules-apply.log"
$C user add alice@example.com --role member --team sales
$C user add carol@example.com --role member
$C user add admin@example.com --role admin
for u in alice carol admin; do echo "demo-$u" | $C user passwd "$u@example.com"; done
mkdir -p "$D/viewer"
chown "$CRM_USER" "$D/viewer"
VIEW_PORT=8025
(echo > "/dev/tcp/127.0.0.1/$VIEW_PORT") 2> /dev/null && VIEW_PORT=$(free_port)
{
	echo "ViewerListen 127.0.0.1:$VIEW_PORT"
	echo "ViewerSessionKeyFile $D/viewer/session.key"
	echo "ViewerAccessLog $D/viewer/access.log"
} >> "$D/crmilter.conf"
"$CRM_BUILD/crmview" -c "$D/crmilter.conf" > "$D/viewer/crmview.log" 2>&1 &
VIEW_PID=$!
view_stop_all() { kill "$VIEW_PID" 2> /dev/null; wait "$VIEW_PID" 2> /dev/null; stop_all; }
trap view_stop_all INT TERM EXIT
i=0; while ! grep -q 'listening on' "$D/viewer/crmview.log" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
VIEW_URL=http://127.0.0.1:$VIEW_PORT
# what a member sees, and what not
for u in alice carol; do
	curl -s -c "$D/viewer/$u.jar" -o /dev/null -d "address=$u@example.com&password=demo-$u" "$VIEW_URL/login"
done
HR=$(sqlite3 "$D/store/crm.db" "SELECT thread_id FROM messages WHERE msgid = 'h1@payroll-partner.de'")
say "crmview at $VIEW_URL: what alice (member, sales) sees"
curl -s -b "$D/viewer/alice.jar" "$VIEW_URL/api/accounts" | python3 -c 'import json, sys
for a in json.load(sys.stdin)["items"]:
    print("  account %-12s threads %d, last activity %s" % (a["domain"], a["threads"], a["last_activity"]))'
echo "  the HR thread ($HR) for alice: HTTP $(curl -s -o /dev/null -w '%{http_code}' -b "$D/viewer/alice.jar" "$VIEW_URL/threads/$HR") (hidden: in no list, count or search)"
echo "  the HR thread ($HR) for carol, a participant: HTTP $(curl -s -o /dev/null -w '%{http_code}' -b "$D/viewer/carol.jar" "$VIEW_URL/threads/$HR")"
echo "  alice searching 'salary': $(curl -s -b "$D/viewer/alice.jar" "$VIEW_URL/api/search?q=salary" | python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])') hits"

cat <<EOF

Look further:
  $C show thread 1
  $C show contact dave@acme.com --json
  $C threads --account acme.com
  tail -f $D/crmilter.log                 # crmilter's log (one line per message)
  tail -f $PF/log/maillog                 # the private Postfix's log
  swaks --server 127.0.0.1:$SUB --from alice@example.com --to dave@acme.com   # send more (outbound)
  swaks --server 127.0.0.1:$SMTP --from dave@acme.com --to alice@example.com  # send more (inbound)
EOF
cat <<EOF

The viewer:  $VIEW_URL/   (read-only; access log $D/viewer/access.log)
  log in as alice@example.com / demo-alice   member, team sales: the records and their
                                             timelines, not the private HR thread
            carol@example.com / demo-carol   member, inside the HR thread
            admin@example.com / demo-admin   admin: also the mailboxes page
  the JSON API mirrors every page:  curl -b JAR $VIEW_URL/api/accounts
EOF
if [ -f "$TOP/bench/viewer-results.txt" ]; then
	echo
	echo "crmview benchmark (bench/viewer.sh at 1,000,000 messages; bench/viewer-results.txt):"
	sed 's/^/  /' "$TOP/bench/viewer-results.txt"
fi
if [ -n "${DEMO_NO_WAIT:-}" ] || [ ! -t 0 ]; then
	view_stop_all
fi
say "running; press Ctrl-C to stop everything"
# wait, not a foreground sleep: a trapped signal (Ctrl-C, or a kill of
# this script alone) runs the trap at once, not when the sleep ends
while :; do
	sleep 3600 &
	wait $!
done
