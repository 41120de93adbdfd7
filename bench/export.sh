#!/usr/bin/env bash
# export.sh - crmctl export on a large store: memory must not grow with it
#
# Runs `crmctl export` in each format three times on the same store, side
# by side: the newest tenth of the mail (--since the date that cuts it),
# all of it, and all of it through the date filter (--since the oldest
# date), and prints for each run the messages written, seconds, output
# size, throughput and peak RSS, and the largest/tenth RSS ratio.  Export
# streams rows in id order, so ten times the mail should cost the same
# memory: target ratio <= 1.25.
#
# usage: bench/export.sh --store DB [--formats "jsonl json csv mbox"] [--out DIR]
#   --store DB   the store to export (bench/viewer.sh --count N --save keeps
#                one; any crmilter store will do); opened read-only
#   --out DIR    where the exports are written, one at a time, and deleted
#                (default /var/tmp; mbox of a million messages is ~12 GB)
# Needs /usr/bin/time (package time), sqlite3, python3, bc and a built
# crmctl (CRMCTL, default build/crmctl).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CRMCTL=${CRMCTL:-$TOP/build/crmctl}
STORE= FORMATS="jsonl json csv mbox" OUT=/var/tmp
while [ $# -gt 0 ]; do
	case $1 in
	--store) STORE=$2; shift 2 ;;
	--formats) FORMATS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	-h|--help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "export.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
die() { echo "export.sh: $*" >&2; exit 2; }
[ -n "$STORE" ] && [ -f "$STORE" ] || die "--store DB: an existing store is needed"
[ -x "$CRMCTL" ] || die "no $CRMCTL: run make first"
for t in /usr/bin/time sqlite3 python3 bc; do command -v $t > /dev/null || die "needs $t"; done

W=$(mktemp -d "$OUT/crm-export-bench.XXXXXX") || die "cannot write in $OUT"
trap 'rm -rf "$W"' EXIT
printf 'Database %s\nDomains example.com\nFreemailDomains %s\n' "$STORE" \
	"$TOP/contrib/freemail-domains.txt" > "$W/c.conf"
q() { sqlite3 -readonly "$STORE" "$1"; }
total=$(q "SELECT count(*) FROM messages")
[ "$total" -ge 10 ] || die "$STORE holds $total messages: too few to compare"
since=$(q "SELECT date(date, 'unixepoch') FROM messages ORDER BY date DESC LIMIT 1
	   OFFSET $((total / 10))")
oldest=$(q "SELECT date(min(date), 'unixepoch') FROM messages")
echo "crmctl export: $STORE, $total messages; the tenth: --since $since"
printf '%-6s %-6s %10s %10s %9s %10s %9s\n' format part messages seconds "out MB" "MB/s" "RSS MB"

# run FORMAT PART [--since D] - one export; prints its line, sets RSS
run() {
	local fmt=$1 part=$2 dst=$W/out.$1; shift 2
	[ "$fmt" = csv ] && dst=$W/csv
	/usr/bin/time -f '%M %e' -o "$W/time" "$CRMCTL" -c "$W/c.conf" export --format "$fmt" \
		"$@" -o "$dst" > "$W/log" 2>&1 || { sed 's/^/  /' "$W/log"; die "$fmt $part failed"; }
	local bytes msgs
	bytes=$(du -sb "$dst" | cut -f1)
	case $fmt in
	jsonl) msgs=$(grep -c '^{"type":"message"' "$dst") ;;
	json) msgs=$(grep -o '"type": *"message"' "$dst" | wc -l) ;;
	csv) msgs=$(($(python3 -c 'import csv, sys; csv.field_size_limit(sys.maxsize); print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""))))' "$dst/messages.csv") - 1)) ;;
	mbox) msgs=$(grep -c '^From ' "$dst") ;;
	esac
	read -r RSS secs < "$W/time"
	printf '%-6s %-6s %10d %10.1f %9.1f %10.1f %9.1f\n' "$fmt" "$part" "$msgs" "$secs" \
		"$(echo "$bytes / 1048576" | bc -l)" "$(echo "$bytes / 1048576 / ($secs + 0.01)" | bc -l)" \
		"$(echo "$RSS / 1024" | bc -l)"
	rm -rf "$dst"
}

worst=0
for fmt in $FORMATS; do
	run "$fmt" tenth --since "$since"; tenth=$RSS
	run "$fmt" all; all=$RSS
	run "$fmt" dated --since "$oldest"; [ "$RSS" -gt "$all" ] && all=$RSS
	ratio=$(echo "$all / $tenth" | bc -l)
	printf '%-6s largest/tenth peak RSS %.2f\n' "$fmt" "$ratio"
	worst=$(echo "if ($ratio > $worst) $ratio else $worst" | bc -l)
done
printf 'target: largest/tenth peak RSS <= 1.25 in every format: %s (worst %.2f)\n' \
	"$(echo "$worst <= 1.25" | bc -l | sed 's/1/met/; s/0/NOT met/')" "$worst"
