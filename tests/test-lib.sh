# test-lib.sh - shared helpers for the end-to-end tests tests/TNNN-topic.sh
#
# Each test sources this file, then calls the check functions below; every
# check prints one TAP line ("ok - ..." or "not ok - ...").  Paths: $CRM_TOP is
# the source tree, $CRM_BUILD the build directory, $TMP a fresh scratch folder
# removed at exit, $CRMCTL the crmctl binary.
set -u
CRM_TOP=${CRM_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
CRM_BUILD=${CRM_BUILD:-$CRM_TOP/build}
CRMCTL=$CRM_BUILD/crmctl
CORPORA=$CRM_TOP/tests/corpora
EXPECTED=$CRM_TOP/tests/expected
SHARED_CORPUS=${SHARED_CORPUS:-$CRM_TOP/../shared/corpus}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crmtest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export TZ=UTC LC_ALL=C.UTF-8

if [ ! -x "$CRMCTL" ]; then
	echo "not ok - $CRMCTL is built"
	exit 1
fi

ok()   { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
skip() { echo "ok - $1 # SKIP ${2:-}"; }

# check DESC CMD... - the command succeeds
check() {
	desc=$1; shift
	if "$@" > "$TMP/out" 2>&1; then ok "$desc"; else notok "$desc"; sed 's/^/# /' "$TMP/out" | head -20; fi
}

# check_fails DESC CMD... - the command exits non-zero
check_fails() {
	desc=$1; shift
	if "$@" > "$TMP/out" 2>&1; then notok "$desc (succeeded)"; sed 's/^/# /' "$TMP/out" | head -20; else ok "$desc"; fi
}

# check_equal DESC EXPECTED ACTUAL - two strings are the same
check_equal() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1"; echo "# expected: $2"; echo "# actual:   $3"; fi
}

# check_output DESC EXPECTED_FILE CMD... - stdout equals the file exactly
check_output() {
	desc=$1; exp=$2; shift 2
	"$@" > "$TMP/actual" 2> "$TMP/stderr"
	if [ -f "$exp" ] && diff -u "$exp" "$TMP/actual" > "$TMP/diff"; then
		ok "$desc"
	else
		notok "$desc"
		[ -f "$exp" ] || echo "# missing expected file $exp"
		sed 's/^/# /' "$TMP/diff" "$TMP/stderr" | head -60
	fi
}

# check_grep DESC PATTERN FILE - the file has a line matching the pattern
check_grep() {
	if grep -q -- "$2" "$3"; then ok "$1"; else notok "$1"; echo "# no match for '$2' in $3"; sed 's/^/# /' "$3" | head -20; fi
}

# write_conf FILE [KEY VALUE]... - a minimal crmilter.conf for tests
write_conf() {
	f=$1; shift
	{
		echo "Database $TMP/store.db"
		echo "Domains example.com"
		echo "FreemailDomains $CRM_TOP/contrib/freemail-domains.txt"
		while [ $# -ge 2 ]; do echo "$1 $2"; shift 2; done
	} > "$f"
}

# check_folds DESC DB - every record's figures of its links shown to
# everyone (shown_*, kept by triggers: storage/schema.c) equal a recount
check_folds() {
	local k t bad=0 n
	for k in account:accounts contact:contacts deal:deals; do
		t=${k#*:} k=${k%%:*}
		n=$(sqlite3 -readonly "$2" "SELECT count(*) FROM $t r WHERE (r.shown_n, r.shown_last,
			r.shown_li, r.shown_lo, r.shown_wu, r.shown_wt) IS NOT (SELECT count(*),
			max(l.last_date), max(l.last_in), max(l.last_out), min(l.wait_us), min(l.wait_them)
			FROM links l WHERE l.${k}_id = r.id AND l.shown)") || n=error
		[ "$n" = 0 ] || { bad=1; echo "# $t: $n records whose figures differ from their links"; }
	done
	if [ $bad = 0 ]; then ok "$1"; else notok "$1"; fi
}
