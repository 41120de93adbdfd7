# lib.sh - shared by the crmview tests (tests/T2NN-viewer-*.sh; sourced after test-lib.sh)
#
#   viewer_store DIR       a store in DIR/store.db from tests/corpora/mail and
#                          tests/viewer/mail under tests/viewer/rules, with users:
#                          alice (member, team sales), carol (member, team hr),
#                          frank, gina, henry, ivan, judy (members, no team; the
#                          last four named by outsiders in Sender, Reply-To, To
#                          and Cc of private threads), admin (admin); password
#                          "pw-NAME-2025"
#   viewer_start NAME DIR [KEY VALUE]...   crmview with DIR/NAME.conf (extra keys
#                          added) on a free loopback port: sets URL_NAME... via
#                          the variables VIEW_URL and VIEW_PID (last started);
#                          run under $VIEW_WRAPPER (a command prefix) when set
#   viewer_tables DIR      add the records of tests/viewer/tables (T266, T267)
#   viewer_tables_start DIR  both, crmview started, alice and carol logged in
#   viewer_stop_all        stop every crmview started
#   login JAR USER         log USER in, the session cookie into JAR; 0 or 1
#
# Started as root, crmview drops to the crmilter user: DIR is handed to it.
VIEWER=$CRM_BUILD/crmview
VT=$CRM_TOP/tests/viewer
VIEW_PIDS=""
USERS="alice carol frank gina henry ivan judy admin"

if [ ! -x "$VIEWER" ]; then
	echo "not ok - $VIEWER is built"
	exit 1
fi

viewer_store() {
	local d=$1
	mkdir -p "$d"
	cat > "$d/base.conf" <<EOF
Database $d/store.db
Domains example.com
FreemailDomains $CRM_TOP/contrib/freemail-domains.txt
RulesFile $VT/rules
UserID crmilter
ViewerSessionKeyFile $d/session.key
EOF
	local C="$CRMCTL -c $d/base.conf"
	$C import "$CORPORA/mail" "$VT/mail" > "$d/import.log" 2>&1 || return 1
	$C user add alice@example.com > /dev/null 2>&1 &&
	$C user add carol@example.com > /dev/null 2>&1 &&
	$C user add frank@example.com > /dev/null 2>&1 &&
	for u in gina henry ivan judy; do
		$C user add $u@example.com > /dev/null 2>&1 || return 1
	done &&
	$C user add admin@example.com --role admin > /dev/null 2>&1 || return 1
	for u in $USERS; do
		echo "pw-$u-2025" | $C user passwd "$u@example.com" > /dev/null || return 1
	done
	viewer_owner "$d"
}

# viewer_owner D - as root, give the store folder D to the crmilter user
# (made when missing) crmview runs as; else let crmview run as this user
viewer_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		id crmilter > /dev/null 2>&1 ||
			useradd --system --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin crmilter
		chmod 755 "$TMP"
		chown -R crmilter "$1"
	else
		sed -i '/^UserID/d' "$1/base.conf"
	fi
}

# viewer_tables D - add to the store of viewer_store D the records of
# tests/viewer/tables: a rules file naming the account "=SUM(1+1), Alpha"
# (alpha-t266.test) and finding deals DEAL-T266-N in subjects, deals
# "-Discount for Bo" (open) and "@Beta renewal" (closed), and their mail
viewer_tables() {
	local d=$1
	{
		printf '[associate]\naccount "=SUM(1+1), Alpha" = alpha-t266.test\n'
		printf 'deal subject /\\[(DEAL-T266-[0-9]+)\\]/\n'
		cat "$VT/rules"
	} > "$d/rules"
	sed -i "s|^RulesFile .*|RulesFile $d/rules|" "$d/base.conf"
	printf '%s\n' "key,name,account,contacts,status" \
		"DEAL-T266-1,-Discount for Bo,alpha-t266.test,bo@alpha-t266.test,open" \
		"DEAL-T266-2,@Beta renewal,beta-t266.test,cy@beta-t266.test,closed" > "$d/deals.csv"
	$CRMCTL -c "$d/base.conf" deals import "$d/deals.csv" > "$d/tables.log" 2>&1 &&
		$CRMCTL -c "$d/base.conf" import "$VT/tables" >> "$d/tables.log" 2>&1
}

# viewer_tables_start D - viewer_store D with viewer_tables, crmview "main"
# started on it, alice and carol logged in ($TMP/jar.USER); TAP lines
viewer_tables_start() {
	local d=$1
	viewer_store "$d" || { notok "the test store is built"; sed 's/^/# /' "$d/import.log"; exit 1; }
	ok "the test store is built"
	check "the table fixtures are imported" viewer_tables "$d"
	viewer_owner "$d"
	check "crmview starts" viewer_start main "$d"
	for u in alice carol; do login "$TMP/jar.$u" $u; done
}

viewer_start() {
	local name=$1 d=$2; shift 2
	{
		cat "$d/base.conf"
		echo "ViewerAccessLog $d/$name-access.log"
		while [ $# -ge 2 ]; do echo "$1 $2"; shift 2; done
	} > "$d/$name.conf"
	[ "$(id -u)" -eq 0 ] && chown -R crmilter "$d"
	# shellcheck disable=SC2086 # VIEW_WRAPPER is a command and its options
	${VIEW_WRAPPER:-} "$VIEWER" -c "$d/$name.conf" -l 127.0.0.1:0 > "$d/$name.out" 2>&1 &
	VIEW_PID=$!
	VIEW_PIDS="$VIEW_PIDS $VIEW_PID"
	local i=0
	while [ $i -lt 100 ] && ! grep -q 'listening on' "$d/$name.out"; do
		kill -0 "$VIEW_PID" 2> /dev/null || break
		sleep 0.05; i=$((i + 1))
	done
	VIEW_URL=$(grep -o 'http[s]*://127.0.0.1:[0-9]*' "$d/$name.out" | head -1)
	[ -n "$VIEW_URL" ]
}

viewer_stop_all() {
	for p in $VIEW_PIDS; do kill "$p" 2> /dev/null; done
	for p in $VIEW_PIDS; do wait "$p" 2> /dev/null; done
	VIEW_PIDS=""
}
trap 'viewer_stop_all; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT

login() {
	local jar=$1 u=$2
	code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" \
		--data-urlencode "address=$u@example.com" --data-urlencode "password=pw-$u-2025" \
		"$VIEW_URL/login")
	[ "$code" = 303 ]
}
