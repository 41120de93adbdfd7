#!/bin/bash
# bench/import.sh - import throughput of `crmctl import` against `notmuch new`
# and `mu index`
#
# Generates (or reuses from /tmp/crm-bench-cache) a synthetic Maildir with
# bench/gen, or with --corpus makes a Maildir of a real mbox (.xz is read),
# reads it once so every tool sees a warm page cache, then times
# `crmctl import` into a fresh store, `notmuch new` into a fresh database and
# `mu index` (when mu is installed) into a fresh one in the same run, and
# prints messages/s for each, the ratios, peak memory, and the store and
# database sizes against the Maildir's.  With --runs R > 1 the tools take
# turns (the order rotates each run), each run's times are listed and the
# median of each tool is reported.
#
# It is a measurement, not a test: missing a target still exits 0.  It exits 1
# only when a tool fails (or imports fewer messages than the corpus holds),
# and 2 on bad usage.
set -eu

usage() {
	cat <<'EOF'
usage: bench/import.sh [--count N | --corpus PATH] [--runs R] [--seed S] [--keep] [--no-cache]

Times `crmctl import`, `notmuch new` and `mu index` on the same Maildir.

  --count N    messages in the synthetic corpus (default 20000)
  --corpus P   a real corpus instead: a Maildir, or an mbox (.xz read), or
               a folder holding one mbox;
               crmctl logs list mail too there (the rules skip nothing),
               so that it stores what the peers index
  --runs R     timed runs of each tool, interleaved; the median is reported
               (default 1)
  --seed S     bench/gen seed (default 1)
  --keep       keep the work folder (stores, notmuch database, logs)
  --no-cache   generate the corpus into the work folder instead of reusing
               /tmp/crm-bench-cache (set CRM_BENCH_CACHE to move the cache)
  -h, --help   this text

Environment:
  CRMCTL           crmctl binary (default: build/crmctl of this checkout)
  CRM_BENCH_CACHE  corpus cache folder (default /tmp/crm-bench-cache)

Targets: crmctl import >= 5.00x notmuch's rate and >= 2.00x mu's; peak RSS
no higher than either's; store (raw source included) <= 0.70x the Maildir's
size (du -sb).
EOF
}

die() { echo "bench/import.sh: $*" >&2; exit 2; }

COUNT=20000 RUNS=1 SEED=1 KEEP=0 CACHE=1 CORPUS=
while [ $# -gt 0 ]; do
	case $1 in
	--count) [ $# -ge 2 ] || die "--count needs a value"; COUNT=$2; shift 2 ;;
	--count=*) COUNT=${1#*=}; shift ;;
	--runs) [ $# -ge 2 ] || die "--runs needs a value"; RUNS=$2; shift 2 ;;
	--runs=*) RUNS=${1#*=}; shift ;;
	--corpus) [ $# -ge 2 ] || die "--corpus needs a path"; CORPUS=$2; shift 2 ;;
	--corpus=*) CORPUS=${1#*=}; shift ;;
	--seed) [ $# -ge 2 ] || die "--seed needs a value"; SEED=$2; shift 2 ;;
	--seed=*) SEED=${1#*=}; shift ;;
	--keep) KEEP=1; shift ;;
	--no-cache) CACHE=0; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $COUNT in ''|*[!0-9]*) die "--count must be a positive number" ;; esac
case $RUNS in ''|*[!0-9]*) die "--runs must be a positive number" ;; esac
case $SEED in ''|*[!0-9]*) die "--seed must be a number" ;; esac
[ "$COUNT" -ge 1 ] || die "--count must be at least 1"
[ "$RUNS" -ge 1 ] || die "--runs must be at least 1"

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
GEN=$HERE/gen
CRMCTL=${CRMCTL:-$TOP/build/crmctl}
OWN_DOMAIN=example.com
FREEMAIL=$TOP/contrib/freemail-domains.txt
command -v python3 >/dev/null || die "python3 is needed for bench/gen"
command -v notmuch >/dev/null || die "notmuch is not installed (apt-get install notmuch)"
[ -z "$CORPUS" ] || [ -e "$CORPUS" ] || die "--corpus $CORPUS: no such file or folder"
MU_OK=0
if command -v mu >/dev/null; then MU_OK=1; else
	echo "mu is not installed (apt-get install maildir-utils): no mu column" >&2; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/crm-bench.XXXXXX")
FAILED=0
cleanup() {
	if [ "$KEEP" = 1 ] || [ "$FAILED" = 1 ]; then
		echo "work folder kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the corpus --------------------------------------------------------------
# The cache key holds the generator's own hash, so editing bench/gen never
# serves a stale corpus.
if [ -n "$CORPUS" ] && [ -d "$CORPUS" ] && [ ! -d "$CORPUS/cur" ] && [ ! -d "$CORPUS/new" ]; then
	# a folder that is no Maildir: the one mbox it holds (../shared/corpus/NAME/)
	set -- "$CORPUS"/*.mbox "$CORPUS"/*.mbox.xz
	MBOXES=
	for f; do [ -f "$f" ] && MBOXES="$MBOXES $f"; done
	# shellcheck disable=SC2086
	set -- $MBOXES
	[ $# -eq 1 ] || die "--corpus $CORPUS: not a Maildir (no cur/ or new/), and not a folder of one .mbox or .mbox.xz"
	CORPUS=$1
fi
if [ -n "$CORPUS" ] && [ -d "$CORPUS" ]; then
	MAILDIR=$(cd "$CORPUS" && pwd)
elif [ -n "$CORPUS" ]; then
	# an mbox: split once into a Maildir in the cache, keyed by the file's hash
	CACHE_DIR=${CRM_BENCH_CACHE:-/tmp/crm-bench-cache}
	MAILDIR=$CACHE_DIR/corpus-$(sha256sum "$CORPUS" | cut -c1-12)
	if [ ! -f "$MAILDIR.done" ]; then
		mkdir -p "$CACHE_DIR"
		rm -rf "$MAILDIR.tmp.$$"
		echo "splitting $CORPUS into $MAILDIR ..." >&2
		python3 - "$CORPUS" "$MAILDIR.tmp.$$" <<-'PY' || die "cannot split $CORPUS"
		import lzma, mailbox, os, shutil, sys, tempfile
		src, out = sys.argv[1], sys.argv[2]
		if src.endswith(".xz"):
		    t = tempfile.NamedTemporaryFile(delete=False)
		    with lzma.open(src) as f:
		        shutil.copyfileobj(f, t)
		    t.close()
		    src = t.name
		md = mailbox.Maildir(out, create=True)
		for m in mailbox.mbox(src, create=False):
		    md.add(mailbox.MaildirMessage(m))
		PY
		mv -T "$MAILDIR.tmp.$$" "$MAILDIR" && touch "$MAILDIR.done"
	fi
elif [ "$CACHE" = 1 ]; then
	CACHE_DIR=${CRM_BENCH_CACHE:-/tmp/crm-bench-cache}
	GEN_HASH=$(sha256sum "$GEN" | cut -c1-12)
	MAILDIR=$CACHE_DIR/maildir-n$COUNT-s$SEED-$GEN_HASH
	if [ ! -f "$MAILDIR.done" ]; then
		mkdir -p "$CACHE_DIR"
		# corpora of an older bench/gen for the same N and seed are stale
		for old in "$CACHE_DIR/maildir-n$COUNT-s$SEED-"*; do
			case $old in "$MAILDIR"*|*"*") ;; *) rm -rf "$old" ;; esac
		done
		echo "generating $COUNT messages into $MAILDIR ..." >&2
		python3 "$GEN" --count "$COUNT" --seed "$SEED" --own-domain "$OWN_DOMAIN" \
			--format maildir --out "$MAILDIR.tmp.$$" >&2
		# another run may have finished the same corpus meanwhile: keep the first
		if mv -T "$MAILDIR.tmp.$$" "$MAILDIR" 2>/dev/null; then
			touch "$MAILDIR.done"
		else
			rm -rf "$MAILDIR.tmp.$$"
			[ -f "$MAILDIR.done" ] || die "could not move the corpus into $MAILDIR"
		fi
	fi
else
	MAILDIR=$WORK/maildir
	echo "generating $COUNT messages into $MAILDIR ..." >&2
	python3 "$GEN" --count "$COUNT" --seed "$SEED" --own-domain "$OWN_DOMAIN" \
		--format maildir --out "$MAILDIR" >&2
fi
MAILDIR_BYTES=$(du -sb "$MAILDIR" | cut -f1)
[ -z "$CORPUS" ] || COUNT=$(find "$MAILDIR" -type f -path '*/cur/*' -o -type f -path '*/new/*' | wc -l)

# warm the page cache so neither tool pays for the first read
find "$MAILDIR" -type f -print0 | xargs -0 cat > /dev/null

# --- helpers -------------------------------------------------------------------
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }

# median of the numbers in a file, one a line
median() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run CMD... under /usr/bin/time when it is there, for the peak RSS (KB) in $2
timed() {
	out=$1 rss=$2; shift 2
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$rss" "$@" > "$out" 2>&1
	else
		echo 0 > "$rss"
		"$@" > "$out" 2>&1
	fi
}

CRM_OK=1
if [ ! -x "$CRMCTL" ]; then
	CRM_OK=0
	echo "crmctl not found at $CRMCTL (run make, or set CRMCTL): timing notmuch only" >&2
fi
: > "$WORK/crm.times"; : > "$WORK/nm.times"
CRM_STORE_BYTES=0 NM_DB_BYTES=0 CRM_RSS=0 NM_RSS=0 CRM_STATS=
CRM_FAIL= NM_FAIL=

run_crmctl() {
	i=$1 d=$WORK/crm$1
	mkdir -p "$d/store"
	{
		echo "Database $d/store/store.db"
		echo "Domains $OWN_DOMAIN"
		if [ -f "$FREEMAIL" ]; then echo "FreemailDomains $FREEMAIL"; fi
		if [ -n "$CORPUS" ]; then echo "RulesFile $WORK/rules"; fi
	} > "$d/crmilter.conf"
	t0=$(now)
	rc=0
	timed "$d/import.log" "$d/rss" "$CRMCTL" -c "$d/crmilter.conf" import "$MAILDIR" || rc=$?
	t1=$(now)
	if [ "$rc" != 0 ]; then
		CRM_FAIL="exit $rc, log $d/import.log"
		FAILED=1
		return 0
	fi
	elapsed "$t0" "$t1" >> "$WORK/crm.times"
	CRM_RSS=$(tail -n1 "$d/rss")
	CRM_STORE_BYTES=$(du -sb "$d/store" | cut -f1)
	"$CRMCTL" -c "$d/crmilter.conf" stats --json > "$d/stats.json" 2> "$d/stats.err" || true
	CRM_STATS=$d/stats.json
	if [ "$KEEP" = 0 ] && [ "$i" -lt "$RUNS" ]; then rm -rf "$d/store"; fi
}

run_notmuch() {
	i=$1 d=$WORK/nm$1
	mkdir -p "$d/db"
	cat > "$d/notmuch-config" <<-EOF
	[database]
	path=$d/db
	mail_root=$MAILDIR
	[user]
	name=Bench User
	primary_email=someone@$OWN_DOMAIN
	[new]
	tags=unread;inbox;
	ignore=
	[maildir]
	synchronize_flags=false
	EOF
	t0=$(now)
	rc=0
	NOTMUCH_CONFIG=$d/notmuch-config timed "$d/new.log" "$d/rss" notmuch new --quiet || rc=$?
	t1=$(now)
	if [ "$rc" != 0 ]; then
		NM_FAIL="exit $rc, log $d/new.log"
		FAILED=1
		return 0
	fi
	elapsed "$t0" "$t1" >> "$WORK/nm.times"
	NM_RSS=$(tail -n1 "$d/rss")
	NM_DB_BYTES=$(du -sb "$d/db" | cut -f1)
	NM_COUNT=$(NOTMUCH_CONFIG=$d/notmuch-config notmuch count '*')
	if [ "$NM_COUNT" != "$COUNT" ] && [ -n "$CORPUS" ]; then
		echo "notmuch: $NM_COUNT messages of $COUNT files (one per Message-ID)" >&2
	elif [ "$NM_COUNT" != "$COUNT" ]; then
		NM_FAIL="indexed $NM_COUNT of $COUNT messages, log $d/new.log"
		FAILED=1
	fi
	if [ "$KEEP" = 0 ] && [ "$i" -lt "$RUNS" ]; then rm -rf "$d/db"; fi
}

run_mu() {
	i=$1 d=$WORK/mu$1
	mkdir -p "$d/home"
	rc=0
	mu init --muhome="$d/home" --maildir="$MAILDIR" --my-address="someone@$OWN_DOMAIN" \
		> "$d/init.log" 2>&1 || rc=$?
	t0=$(now)
	[ "$rc" != 0 ] || timed "$d/index.log" "$d/rss" mu index --muhome="$d/home" --quiet || rc=$?
	t1=$(now)
	if [ "$rc" != 0 ]; then
		MU_FAIL="exit $rc, logs $d/init.log $d/index.log"
		FAILED=1
		return 0
	fi
	elapsed "$t0" "$t1" >> "$WORK/mu.times"
	MU_RSS=$(tail -n1 "$d/rss")
	MU_DB_BYTES=$(du -sb "$d/home" | cut -f1)
	MU_COUNT=$(mu find --muhome="$d/home" --fields=i '""' 2> /dev/null | wc -l)
	if [ "$MU_COUNT" -lt "$COUNT" ]; then
		# mu indexes one copy of each Message-ID; the corpus may hold a few twice
		echo "mu: $MU_COUNT messages found of $COUNT files" >&2
	fi
	if [ "$KEEP" = 0 ] && [ "$i" -lt "$RUNS" ]; then rm -rf "$d/home"; fi
}

# crmctl's rules for a real corpus: the example rules, logging list mail too
if [ -n "$CORPUS" ]; then
	grep -v '^skip "mailing list"' "$TOP/contrib/rules.example" > "$WORK/rules"
fi

# --- the runs --------------------------------------------------------------------
TOOLS="crmctl notmuch"
[ "$MU_OK" = 0 ] || TOOLS="$TOOLS mu"
: > "$WORK/mu.times"; MU_RSS=0 MU_DB_BYTES=0 MU_FAIL=
i=1
while [ "$i" -le "$RUNS" ]; do
	# rotate the order: each tool goes first in turn
	order=$(echo $TOOLS | awk -v r="$i" '{ for (k = 0; k < NF; k++) printf "%s ", $(((r - 1 + k) % NF) + 1) }')
	echo "run $i/$RUNS: $order..." >&2
	for tool in $order; do
		case $tool in
		crmctl) if [ "$CRM_OK" = 1 ] && [ -z "$CRM_FAIL" ]; then run_crmctl "$i"; fi ;;
		notmuch) if [ -z "$NM_FAIL" ]; then run_notmuch "$i"; fi ;;
		mu) if [ -z "$MU_FAIL" ]; then run_mu "$i"; fi ;;
		esac
	done
	i=$((i + 1))
done

# what the store says it holds: messages logged plus messages the rules
# skipped (kept as metadata rows) must match the corpus
CRM_MSGS=
if [ -n "$CRM_STATS" ] && [ -s "$CRM_STATS" ]; then
	CRM_MSGS=$(python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    print(d["messages"] + d.get("skipped", 0))
except Exception:
    print("")' "$CRM_STATS")
	if [ -n "$CRM_MSGS" ] && [ -n "$CORPUS" ] && [ "$CRM_MSGS" != "$COUNT" ]; then
		echo "crmctl: $CRM_MSGS messages of $COUNT files (one per Message-ID)" >&2
	elif [ -n "$CRM_MSGS" ] && [ -z "$CRM_FAIL" ] && [ "$CRM_MSGS" != "$COUNT" ]; then
		CRM_FAIL="stored $CRM_MSGS of $COUNT messages, skipped ones included (stats: $CRM_STATS)"
		FAILED=1
	fi
fi

# --- the table ---------------------------------------------------------------------
rate() { awk -v n="$COUNT" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print "n/a" }'; }
frac() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }

NM_T=$(median "$WORK/nm.times")
CRM_T=$(median "$WORK/crm.times")
runs_note=""
[ "$RUNS" -gt 1 ] && runs_note="   median of $RUNS runs"

printf '%-15s %s\n' messages "$COUNT"
printf '%-15s %s\n' "maildir bytes" "$MAILDIR_BYTES"
if [ "$CRM_OK" = 0 ]; then
	printf '%-15s %s\n' "crmctl import" "not built ($CRMCTL)"
elif [ -n "$CRM_FAIL" ]; then
	printf '%-15s %s\n' "crmctl import" "FAILED: $CRM_FAIL"
else
	printf '%-15s %s msg/s  (%s s)   store bytes %s (%s of maildir)   max RSS %s%s\n' \
		"crmctl import" "$(rate "$CRM_T")" "$CRM_T" "$CRM_STORE_BYTES" \
		"$(frac "$CRM_STORE_BYTES" "$MAILDIR_BYTES")" "$(mb "$CRM_RSS")" "$runs_note"
fi
if [ -n "$NM_FAIL" ]; then
	printf '%-15s %s\n' "notmuch new" "FAILED: $NM_FAIL"
else
	printf '%-15s %s msg/s  (%s s)   db bytes %s (%s of maildir)   max RSS %s%s\n' \
		"notmuch new" "$(rate "$NM_T")" "$NM_T" "$NM_DB_BYTES" \
		"$(frac "$NM_DB_BYTES" "$MAILDIR_BYTES")" "$(mb "$NM_RSS")" "$runs_note"
fi
MU_T=$(median "$WORK/mu.times")
if [ "$MU_OK" = 0 ]; then
	printf '%-15s %s\n' "mu index" "not installed"
elif [ -n "$MU_FAIL" ]; then
	printf '%-15s %s\n' "mu index" "FAILED: $MU_FAIL"
else
	printf '%-15s %s msg/s  (%s s)   db bytes %s (%s of maildir)   max RSS %s%s\n' \
		"mu index" "$(rate "$MU_T")" "$MU_T" "$MU_DB_BYTES" \
		"$(frac "$MU_DB_BYTES" "$MAILDIR_BYTES")" "$(mb "$MU_RSS")" "$runs_note"
fi
CRM_GOOD=0
[ "$CRM_OK" = 1 ] && [ -z "$CRM_FAIL" ] && CRM_GOOD=1
if [ "$CRM_GOOD" = 1 ] && [ -z "$NM_FAIL" ]; then
	printf '%-22s %s   (target >= 5.00)\n' "ratio crmctl/notmuch" "$(frac "$NM_T" "$CRM_T")"
	printf '%-22s %s   (target <= 1.00)\n' "RSS crmctl/notmuch" "$(frac "$CRM_RSS" "$NM_RSS")"
fi
if [ "$CRM_GOOD" = 1 ] && [ "$MU_OK" = 1 ] && [ -z "$MU_FAIL" ]; then
	printf '%-22s %s   (target >= 2.00)\n' "ratio crmctl/mu" "$(frac "$MU_T" "$CRM_T")"
	printf '%-22s %s   (target <= 1.00)\n' "RSS crmctl/mu" "$(frac "$CRM_RSS" "$MU_RSS")"
fi
if [ "$CRM_GOOD" = 1 ]; then
	printf '%-22s %s   (target <= 0.70)\n' "store/maildir" "$(frac "$CRM_STORE_BYTES" "$MAILDIR_BYTES")"
fi
if [ "$RUNS" -gt 1 ]; then
	# each run's times side by side, and the ratios of that run
	paste "$WORK/crm.times" "$WORK/nm.times" "$WORK/mu.times" | awk '{
		printf "run %d: crmctl %s s, notmuch %s s", NR, $1, $2
		if ($3 != "") printf ", mu %s s", $3
		if ($1 > 0) { printf "   ratios %.2f", $2 / $1; if ($3 != "") printf " %.2f", $3 / $1 }
		printf "\n" }'
fi
if [ -n "$CRM_STATS" ] && [ -s "$CRM_STATS" ]; then
	python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
keys = ("messages", "threads", "contacts", "accounts", "attachments", "raw_bytes", "raw_stored_bytes")
print("crmctl stats   " + ", ".join("%s %s" % (k, d[k]) for k in keys if k in d))' "$CRM_STATS"
fi
[ "$FAILED" = 0 ] || exit 1
exit 0
