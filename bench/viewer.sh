#!/usr/bin/env bash
# viewer.sh - crmview at scale: latency (p50/p95) of the record page of the
# busiest account, a thread page, three searches (one filtered), the
# contacts table sorted by two keys and its CSV, the accounts table sorted
# by "waiting for us" and the contacts table by "they wrote" (status
# columns), and requests/s with wrk, over loopback, on a store of N
# messages made by bench/gen
#
# usage: bench/viewer.sh [--count N] [--seed S] [--requests R] [--duration SEC]
#                        [--store DB] [--save] [--against CRMVIEW [--against-store DB]]
#
#   --count N      messages in the store (default 1000000)
#   --requests R   timed requests per page, after 10 warm-up ones (default 200)
#   --duration S   seconds of each wrk run (default 10)
#   --store DB     use this store instead of building one
#   --save         also write the figures to bench/viewer-results.txt (make demo prints it)
#   --against BIN  also run crmview binary BIN (e.g. a build of main) on the same
#                  store, in rounds interleaved with this one, and print each
#                  page's p50 and p95 ratio (this build / BIN)
#   --against-store DB  run BIN on this store instead (a copy at the schema
#                  BIN knows; its users made by $CRMCTL_AGAINST), and ask it
#                  for the tables by last activity where this build sorts by
#                  a status column: the cost of the status, side by side
#
# The store is built once and kept: bench/gen --format mbox, crmctl import,
# the mbox deleted, in $CRM_BENCH_CACHE (default /tmp/crm-bench-cache)
# /viewer-nN-sS-HASH/ (HASH: of bench/gen).  1M messages take about an hour
# and ~6 GB there.  So that the visibility check does real work, one thread
# in ten is then made visible to its participants (others: metadata), one
# in ten to a team (others: subject) and one in twenty to its participants
# only (others: nothing), the way [visibility] rules would.  The
# user asking is the busiest internal mailbox, a member of team "sales".
# Targets: record and thread pages p95 < 50 ms, search p95 < 200 ms.
# CRMCTL / CRMVIEW pick the binaries (default build/).  Needs python3, wrk,
# sqlite3; run as root (crmview then runs as the crmilter user) or as the
# store's owner.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
COUNT=1000000 SEED=1 REQUESTS=200 DURATION=10 STORE="" SAVE=0 AGAINST="" AGAINST_STORE=""
while [ $# -gt 0 ]; do
	case $1 in
	--count) COUNT=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--requests) REQUESTS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--store) STORE=$2; shift 2 ;;
	--save) SAVE=1; shift ;;
	--against) AGAINST=$2; shift 2 ;;
	--against-store) AGAINST_STORE=$2; shift 2 ;;
	*) sed -n '2,40p' "$0" >&2; exit 2 ;;
	esac
done
CRMCTL=${CRMCTL:-$TOP/build/crmctl}
CRMVIEW=${CRMVIEW:-$TOP/build/crmview}
CACHE=${CRM_BENCH_CACHE:-/tmp/crm-bench-cache}
for t in python3 wrk sqlite3 curl; do
	command -v $t > /dev/null || { echo "viewer.sh: $t is needed (apt-get install $t)" >&2; exit 2; }
done
[ -x "$CRMCTL" ] && [ -x "$CRMVIEW" ] || { echo "viewer.sh: build first (make)" >&2; exit 2; }
[ -z "$AGAINST" ] || [ -x "$AGAINST" ] || { echo "viewer.sh: --against $AGAINST: not an executable" >&2; exit 2; }

# ---- the store ----
if [ -z "$STORE" ]; then
	HASH=$(sha256sum "$TOP/bench/gen" | cut -c1-12)
	W=$CACHE/viewer-n$COUNT-s$SEED-$HASH
	STORE=$W/store/crm.db
	if [ ! -f "$W.done" ]; then
		rm -rf "$W"; mkdir -p "$W/store"
		echo "viewer.sh: generating $COUNT messages (once; kept in $W)" >&2
		python3 "$TOP/bench/gen" --count "$COUNT" --seed "$SEED" --format mbox --out "$W/corpus.mbox"
		printf 'Database %s\nDomains example.com\nFreemailDomains %s\n' "$STORE" \
			"$TOP/contrib/freemail-domains.txt" > "$W/import.conf"
		echo "viewer.sh: importing (crmctl import)" >&2
		"$CRMCTL" -c "$W/import.conf" import "$W/corpus.mbox" > "$W/import.log" 2>&1
		rm -f "$W/corpus.mbox"
		touch "$W.done"
	fi
	if [ ! -f "$W.vis2" ]; then
		sqlite3 "$STORE" "UPDATE threads SET visibility = 'participants', outside = 'metadata'
			WHERE id % 10 = 3; UPDATE threads SET visibility = 'team:sales', outside = 'subject'
			WHERE id % 10 = 7; UPDATE threads SET visibility = 'participants',
			outside = 'nothing' WHERE id % 20 = 9;"
		touch "$W.vis2"
	fi
fi
D=$(mktemp -d /tmp/crmview-bench.XXXXXX)
trap '[ -n "${PID:-}" ] && kill "$PID" 2> /dev/null; rm -rf "$D"' EXIT
chmod 755 "$D"
USER_ADDR=$(sqlite3 "$STORE" "SELECT address FROM participants WHERE address LIKE '%@example.com'
	GROUP BY address ORDER BY count(*) DESC LIMIT 1")
printf 'Database %s\nDomains example.com\nViewerSessionKeyFile %s/key\nViewerAccessLog %s/access.log\n' \
	"$STORE" "$D" "$D" > "$D/view.conf"
"$CRMCTL" -c "$D/view.conf" user add "$USER_ADDR" --team sales > /dev/null 2>&1
echo "bench-password" | "$CRMCTL" -c "$D/view.conf" user passwd "$USER_ADDR" > /dev/null
if [ "$(id -u)" -eq 0 ]; then
	id crmilter > /dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin crmilter
	chown -R crmilter "$D" "$(dirname "$STORE")"
fi
"$CRMVIEW" -c "$D/view.conf" -l 127.0.0.1:0 > "$D/view.out" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$D/view.out" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$D/view.out")
COOKIE=$(curl -s -D - -o /dev/null --data-urlencode "address=$USER_ADDR" \
	--data-urlencode "password=bench-password" "$URL/login" | tr -d '\r' |
	sed -n 's/^Set-Cookie: \([^;]*\).*/\1/p')

# ---- what to ask for ----
ACCOUNT=$(sqlite3 "$STORE" "SELECT account_id FROM links WHERE account_id IS NOT NULL
	GROUP BY account_id ORDER BY count(*) DESC LIMIT 1")
THREAD=$(sqlite3 "$STORE" "SELECT t.id FROM links l JOIN threads t ON t.id = l.thread_id
	WHERE l.account_id = $ACCOUNT AND t.visibility = 'workspace' AND t.messages BETWEEN 4 AND 12
	ORDER BY t.last_date DESC LIMIT 1")
MESSAGES=$(sqlite3 "$STORE" "SELECT count(*) FROM messages")
THREADS=$(sqlite3 "$STORE" "SELECT count(*) FROM threads WHERE messages > 0")
ALINKS=$(sqlite3 "$STORE" "SELECT count(*) FROM links WHERE account_id = $ACCOUNT")
TMSG=$(sqlite3 "$STORE" "SELECT messages FROM threads WHERE id = $THREAD")

# ---- latency: sequential requests on one keep-alive connection ----
cat > "$D/lat.py" <<'EOF'
import http.client, sys, time, urllib.parse
url, cookie, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlsplit(url)
c = http.client.HTTPConnection(u.hostname, u.port)
for p in sys.argv[4:]:
    t = []
    for i in range(10 + n):
        s = time.perf_counter()
        c.request("GET", p, headers={"Cookie": cookie})
        r = c.getresponse(); body = r.read()
        if r.status != 200:
            sys.exit("%s: HTTP %d" % (p, r.status))
        if i >= 10:
            t.append((time.perf_counter() - s) * 1000)
    t.sort()
    print("%s %.1f %.1f %.1f %d" % (p, t[len(t) // 2], t[int(len(t) * 0.95) - 1], t[-1], len(body)))
EOF
PAGES="/accounts/$ACCOUNT /threads/$THREAD /search?q=delivery+delay /search?q=invoice"
PAGES="$PAGES /search?q=invoice&direction=in&attachment=1 /contacts?sort=account,name /contacts.csv"
PAGES="$PAGES /accounts?sort=waiting_us /contacts?sort=last_in"
# what --against-store's older build is asked instead: the same, status sorts by last activity
PAGES_B=$(echo "$PAGES" | sed 's|/accounts?sort=waiting_us|/accounts?sort=last|; s|/contacts?sort=last_in|/contacts?sort=last|')
python3 "$D/lat.py" "$URL" "$COOKIE" "$REQUESTS" $PAGES > "$D/lat.txt"

# ---- throughput: wrk on loopback ----
rps() { wrk -t2 -c8 -d"${DURATION}s" -H "Cookie: $COOKIE" "$URL$1" | awk '/^Requests\/sec/ {print $2}'; }
{
	echo "store: $MESSAGES messages, $THREADS threads; busiest account $ACCOUNT: $ALINKS threads; thread $THREAD: $TMSG messages"
	echo "user: $USER_ADDR (member, team sales; 1 thread in 10 participants-only, 1 in 10 team-only, 1 in 20 hidden from others)"
	printf '%-28s %8s %8s %8s %9s %8s\n' page p50_ms p95_ms max_ms req/s bytes
	while read -r p p50 p95 max bytes; do
		case $p in
		/accounts/*) name="record (busiest account)" ;;
		/threads/*) name="thread ($TMSG messages)" ;;
		*\&direction=*) name="search, filtered" ;;
		/contacts\?sort=account,name) name="contacts (two sort keys)" ;;
		/accounts\?sort=*) name="accounts by waiting for us" ;;
		/contacts\?sort=*) name="contacts by they wrote" ;;
		*.csv) name="contacts.csv (all rows)" ;;
		*) name="search '$(echo "${p#*q=}" | tr + ' ')'" ;;
		esac
		printf '%-28s %8s %8s %8s %9s %8s\n' "$name" "$p50" "$p95" "$max" "$(rps "$p")" "$bytes"
	done < "$D/lat.txt"
	echo "targets: record and thread p95 < 50 ms, search p95 < 200 ms ($(nproc) cores, $(date -u +%Y-%m-%d))"
} | tee "$D/results.txt"
[ "$SAVE" -eq 1 ] && cp "$D/results.txt" "$TOP/bench/viewer-results.txt"

# ---- side by side: this build against another, in interleaved rounds ----
if [ -n "$AGAINST" ]; then
	CONF_B=$D/view.conf
	if [ -n "$AGAINST_STORE" ]; then
		CONF_B=$D/view-b.conf
		sed "s|^Database .*|Database $AGAINST_STORE|" "$D/view.conf" > "$CONF_B"
		"${CRMCTL_AGAINST:-$CRMCTL}" -c "$CONF_B" user add "$USER_ADDR" --team sales > /dev/null 2>&1
		echo "bench-password" | "${CRMCTL_AGAINST:-$CRMCTL}" -c "$CONF_B" user passwd "$USER_ADDR" > /dev/null
		[ "$(id -u)" -eq 0 ] && chown -R crmilter "$(dirname "$AGAINST_STORE")"
	else
		PAGES_B=$PAGES
	fi
	"$AGAINST" -c "$CONF_B" -l 127.0.0.1:0 > "$D/view-b.out" 2>&1 &
	PID_B=$!
	trap '[ -n "${PID:-}" ] && kill "$PID" 2> /dev/null; kill "$PID_B" 2> /dev/null; rm -rf "$D"' EXIT
	for _ in $(seq 100); do grep -q 'listening on' "$D/view-b.out" && break; sleep 0.1; done
	URL_B=$(grep -o 'http://127.0.0.1:[0-9]*' "$D/view-b.out")
	COOKIE_B=$(curl -s -D - -o /dev/null --data-urlencode "address=$USER_ADDR" \
		--data-urlencode "password=bench-password" "$URL_B/login" | tr -d '\r' |
		sed -n 's/^Set-Cookie: \([^;]*\).*/\1/p')
	: > "$D/side.txt"
	for round in 1 2 3 4; do
		python3 "$D/lat.py" "$URL" "$COOKIE" "$REQUESTS" $PAGES | sed 's/^/a /' >> "$D/side.txt"
		python3 "$D/lat.py" "$URL_B" "$COOKIE_B" "$REQUESTS" $PAGES_B | sed 's/^/b /' >> "$D/side.txt"
	done
	python3 - "$D/side.txt" "$AGAINST" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print("side by side, 4 interleaved rounds each: this build (a) / %s (b)" % sys.argv[2])
print("%-28s %9s %9s %9s %9s %7s %7s" % ("page", "a_p50", "b_p50", "a_p95", "b_p95", "p50", "p95"))
# the n-th page of a against the n-th of b (--against-store asks b for its peers)
pa = list(dict.fromkeys(r[1] for r in rows if r[0] == "a"))
pb = list(dict.fromkeys(r[1] for r in rows if r[0] == "b"))
for page, peer in zip(pa, pb):
    a = [r for r in rows if r[0] == "a" and r[1] == page]
    b = [r for r in rows if r[0] == "b" and r[1] == peer]
    m = lambda rs, i: statistics.median(float(r[i]) for r in rs)
    print("%-28s %9.1f %9.1f %9.1f %9.1f %7.2f %7.2f" % (page[:28], m(a, 2), m(b, 2), m(a, 3), m(b, 3),
          m(a, 2) / m(b, 2), m(a, 3) / m(b, 3)))
PY
fi
exit 0
