#!/bin/sh
# run.sh - run every test suite and print one closing line "N passed, N failed"
#
# usage: tests/run.sh BUILD_DIR [slow]
# Unit tests (cmocka, TAP output) are build/tests/test_*; end-to-end tests are
# tests/T*.sh, which print TAP lines through tests/test-lib.sh.  A suite that
# dies without reporting counts as one failure.  With "slow", only the slow
# suites tests/S*.sh run (make test-slow: the load test).
BUILD=${1:-build}
SLOW=${2:-}
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$TOP" && cd "$BUILD" && pwd) || { echo "run.sh: no build dir"; exit 2; }
export CRM_BUILD="$BUILD" CRM_TOP="$TOP"
export CMOCKA_MESSAGE_OUTPUT=TAP
if [ -n "${CRM_SANITIZE:-}" ]; then
	# verify_asan_link_order=0: tests preload libfaketime ahead of the ASan runtime
	export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1:verify_asan_link_order=0"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
	export LSAN_OPTIONS="suppressions=$TOP/tests/lsan.supp:print_suppressions=0"
fi

LOG=$BUILD/test-logs
rm -rf "$LOG"; mkdir -p "$LOG"
pass=0; fail=0; skip=0

# tally - count TAP lines of one suite's log; a silent non-zero exit is a failure
tally() {
	name=$1; rc=$2; out=$3
	# a skip is "ok ... # SKIP" (TAP) or "not ok ... # SKIP" (cmocka)
	p=$(grep -v '# SKIP' "$out" | grep -c '^ok ' | tr -d ' ')
	s=$(grep -c -E '^(not )?ok .*# SKIP' "$out" | tr -d ' ')
	f=$(grep -v '# SKIP' "$out" | grep -c '^not ok ' | tr -d ' ')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1; echo "not ok - $name exited with status $rc" >> "$out"
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	status="ok"; [ "$f" -gt 0 ] && status="FAILED"
	printf '%-32s %4d passed %3d failed %3d skipped  %s\n' "$name" "$p" "$f" "$s" "$status"
	[ "$f" -gt 0 ] && grep -v -e '^ok ' -e '# SKIP' "$out" | head -40 | sed 's/^/    /'
	return 0
}

UNITS="$BUILD/tests/test_*"; SCRIPTS="$TOP/tests/T[0-9]*.sh"
[ "$SLOW" = slow ] && { UNITS=""; SCRIPTS="$TOP/tests/S[0-9]*.sh"; }

for t in $UNITS; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	(cd "$TOP" && "$t") > "$LOG/$name.log" 2>&1
	tally "$name" $? "$LOG/$name.log"
done

for t in $SCRIPTS; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	(cd "$TOP" && bash "$t") > "$LOG/$name.log" 2>&1
	tally "$name" $? "$LOG/$name.log"
done

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
