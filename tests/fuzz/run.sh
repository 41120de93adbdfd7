#!/bin/sh
# run.sh - run each libFuzzer target for a while (make fuzz)
#
# usage: tests/fuzz/run.sh BUILD_DIR SECONDS [fuzz_NAME...]
#
# Each target (all of BUILD_DIR/fuzz/fuzz_* by default) runs in turn, at
# nice 19, for SECONDS, with a 1 s limit per input (a slower input is a
# hang) and leak detection on.  It starts from tests/fuzz/seeds/NAME and
# tests/fuzz/regressions/NAME and keeps what it learns in
# BUILD_DIR/fuzz/corpus/NAME, so later runs go on from there.  A crash,
# hang or leak is written to BUILD_DIR/fuzz/findings/NAME/ and makes the
# run fail: fix it, then copy the input into tests/fuzz/regressions/NAME/.
# Logs: BUILD_DIR/fuzz/logs/NAME.log.  Ends with one line per target:
#   fuzz_NAME  180 s  1234567 runs  cov 812  ok
# FUZZ_FLAGS adds libFuzzer options (e.g. "-jobs=2 -workers=2"); FUZZ_TIMEOUT
# (seconds, default 1) is the hang limit: raise it on a loaded machine,
# where a wall-clock second can pass while the fuzzer waits for a core.
set -u
BUILD=${1:?usage: run.sh BUILD_DIR SECONDS [fuzz_NAME...]}
SECS=${2:?usage: run.sh BUILD_DIR SECONDS [fuzz_NAME...]}
shift 2
TOP=$(cd "$(dirname "$0")/../.." && pwd)
F=$TOP/tests/fuzz
OUT=$TOP/$BUILD/fuzz
targets=${*:-$(cd "$OUT" && ls fuzz_* 2> /dev/null)}
[ -n "$targets" ] || { echo "fuzz: no targets in $OUT"; exit 2; }
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$TOP/tests/lsan.supp:print_suppressions=0"
mkdir -p "$OUT/logs"
# inputs are written to files for the readers that take a path: keep them in
# memory, where a busy disk cannot stall an open() past the hang limit
[ -z "${TMPDIR:-}" ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
summary=""
failed=0
for t in $targets; do
	mkdir -p "$OUT/corpus/$t" "$OUT/findings/$t" "$F/seeds/$t" "$F/regressions/$t"
	dict=""
	[ -f "$F/$t.dict" ] && dict="-dict=$F/$t.dict"
	echo "fuzz: $t for $SECS s"
	start=$(date +%s)
	# shellcheck disable=SC2086
	nice -n 19 "$OUT/$t" -max_total_time="$SECS" -timeout="${FUZZ_TIMEOUT:-1}" -rss_limit_mb=2048 \
		-max_len=262144 -print_final_stats=1 $dict ${FUZZ_FLAGS:-} \
		-artifact_prefix="$OUT/findings/$t/" \
		"$OUT/corpus/$t" "$F/seeds/$t" "$F/regressions/$t" > "$OUT/logs/$t.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/logs/$t.log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$OUT/logs/$t.log" | tail -1 | sed 's/cov: //')
	status=ok
	if [ $rc -ne 0 ] || [ -n "$(ls "$OUT/findings/$t")" ]; then
		status="FINDING (exit $rc): $(ls "$OUT/findings/$t" | tr '\n' ' ')"
		failed=1
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$OUT/logs/$t.log" | head -5
	fi
	summary="$summary$(printf '%-20s %6s s %12s runs  cov %-6s %s' "$t" "$secs" "${runs:-?}" "${cov:-?}" "$status")
"
done
printf '%s' "$summary"
exit $failed
