#!/bin/bash
# bench/rules.sh - what the rules cost: rules_eval() per message with a
# 200-rule file against the empty rules file, and against the whole
# pipeline (crmctl import) per message, same corpus, same run
#
# Target: evaluating a 200-rule file costs less than 10% of the pipeline's
# time per message.  A measurement, not a test: missing the target still
# exits 0; 1 when a tool fails, 2 on bad usage.
set -eu

usage() {
	cat <<'USAGE'
usage: bench/rules.sh [--count N] [--rounds R] [--keep]

  --count N    messages in the synthetic corpus (bench/gen; default 2000)
  --rounds R   timed evaluation rounds over the corpus (default 20)
  --keep       keep the work folder
Environment: BUILD (default build) holds crmctl and the libraries.
USAGE
}

COUNT=2000 ROUNDS=20 KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--count) COUNT=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$TOP/${BUILD:-build}" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/crm-rules-bench.XXXXXX")
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT
[ -x "$BUILD/crmctl" ] && [ -f "$BUILD/librules.a" ] || { echo "bench/rules.sh: build first (make)" >&2; exit 1; }

# the timer, built against this checkout's libraries
PKGS="gmime-3.0 libpcre2-8 libpsl libxml-2.0"
cc -std=c11 -O2 -D_GNU_SOURCE $(pkg-config --cflags $PKGS) -o "$WORK/rules_eval" \
	"$TOP/bench/rules_eval.c" "$BUILD/librules.a" "$BUILD/libmail.a" "$BUILD/libcommon.a" \
	$(pkg-config --libs $PKGS) -lm -pthread

python3 "$TOP/bench/gen" --count "$COUNT" --out "$WORK/maildir" --own-domain example.com

# 200 rules a company might write: none of them matches the synthetic mail
# (worst case: every rule is tested), spread over the four sections
{
	echo "# bench: 200 rules"
	echo "list roles = /^(info|sales|support|office|hello|contact|team|admin)@/i"
	echo "list personal = dentist.test gym.test school.test bank.test"
	echo "team sales = alice@example.com bob@example.com"
	echo "trust authserv mx.example.com"
	echo "[log]"
	for i in $(seq 1 60); do
		case $((i % 6)) in
		0) echo "skip \"s$i\" if subject /\\[ticket-$i-\\d+\\]/i" ;;
		1) echo "skip \"h$i\" if header X-Bench-$i /^yes/i" ;;
		2) echo "skip \"p$i\" if external @personal and subject \"invoice $i\"" ;;
		3) echo "private \"f$i\" if from partner$i.test" ;;
		4) echo "skip \"a$i\" if attachment /\\.x$i\$/ and size > 50M" ;;
		5) echo "skip \"m$i\" if mailbox nobody$i@example.com and inbound" ;;
		esac
	done
	echo "[capture]"
	echo "require-auth off"
	for i in $(seq 1 50); do
		case $((i % 3)) in
		0) echo "never /^bench$i-/" ;;
		1) echo "never vendor$i.test if inbound" ;;
		2) echo "always vip$i@client$i.test" ;;
		esac
	done
	echo "[associate]"
	for i in $(seq 1 50); do
		echo "account \"Client $i\" = client$i.test client$i-eu.test"
	done
	echo "deal subject /\\[(BENCH-\\d+)\\]/"
	echo "deal header X-Bench-Deal"
	echo "[visibility]"
	for i in $(seq 1 38); do
		case $((i % 2)) in
		0) echo "private \"v$i\" if participant hr$i@example.com" ;;
		1) echo "team sales subject if mailbox @team:sales and external lead$i.test" ;;
		esac
	done
} > "$WORK/200.rules"
: > "$WORK/empty.rules"
printf 'Database %s\nDomains example.com\n' "$WORK/x.db" > "$WORK/x.conf"
n=$("$BUILD/crmctl" -c "$WORK/x.conf" rules check "$WORK/200.rules" | sed -n 's/.*ok, \([0-9]*\) rules/\1/p')
[ "$n" = 200 ] || { echo "bench/rules.sh: the generated file has $n rules, not 200" >&2; exit 1; }

# evaluation alone, interleaved
"$WORK/rules_eval" "$WORK/maildir" example.com "$ROUNDS" "$WORK/empty.rules" "$WORK/200.rules" \
	> "$WORK/eval.out"
e0=$(awk '$1 ~ /empty/ { print $3 }' "$WORK/eval.out")
e2=$(awk '$1 ~ /200/ { print $3 }' "$WORK/eval.out")

# the whole pipeline per message, each rules file, same corpus, same run
imp() {
	rm -f "$WORK/$1.db"*
	printf 'Database %s/%s.db\nDomains example.com\nRulesFile %s\nFreemailDomains %s\n' \
		"$WORK" "$1" "$WORK/$1.rules" "$TOP/contrib/freemail-domains.txt" > "$WORK/$1.conf"
	local t0 t1
	t0=$(date +%s.%N)
	"$BUILD/crmctl" -c "$WORK/$1.conf" import -q "$WORK/maildir"
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk -v n="$COUNT" '{ printf "%.0f", ($2 - $1) * 1e9 / n }'
}
cat "$WORK"/maildir/cur/* > /dev/null 2>&1 || true
p0=$(imp empty)
p2=$(imp 200)

awk -v n="$COUNT" -v e0="$e0" -v e2="$e2" -v p0="$p0" -v p2="$p2" 'BEGIN {
	printf "messages                 %d\n", n
	printf "rules_eval, empty file   %8.1f us/message\n", e0 / 1000
	printf "rules_eval, 200 rules    %8.1f us/message\n", e2 / 1000
	printf "cost of the 200 rules    %8.1f us/message\n", (e2 - e0) / 1000
	printf "pipeline, empty file     %8.1f us/message (crmctl import)\n", p0 / 1000
	printf "pipeline, 200 rules      %8.1f us/message (crmctl import)\n", p2 / 1000
	printf "200 rules / pipeline     %8.2f %%   (target < 10 %%)\n", 100 * (e2 - e0) / p0
}'
