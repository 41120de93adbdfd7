#!/usr/bin/env bash
# T300-fuzz-regressions.sh - every input fuzzing ever found (tests/fuzz/
# regressions/NAME/) and every seed (tests/fuzz/seeds/NAME/) goes through
# the plain build of its fuzz target: no crash, no sanitizer report (under
# make asan), no input slower than 1 s (5 s in a sanitizer build); and the
# regressions again under valgrind memcheck in a plain build
. "$(dirname "$0")/test-lib.sh"

limit=1000
[ -n "${CRM_SANITIZE:-}" ] && limit=5000
FUZZ=$CRM_TOP/tests/fuzz
n=0
for bin in "$CRM_BUILD"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	n=$((n + 1))
	for kind in regressions seeds; do
		dir=$FUZZ/$kind/$name
		count=$(find "$dir" -maxdepth 1 -type f 2> /dev/null | wc -l)
		if [ "$count" -eq 0 ]; then
			skip "$name: $kind" "no inputs in tests/fuzz/$kind/$name"
			continue
		fi
		if timeout 300 "$bin" -t "$limit" "$dir" > "$TMP/$name.$kind.out" 2>&1; then
			ok "$name: all $count $kind inputs pass"
		else
			notok "$name: $kind inputs (exit $?)"
			grep -v '^ok ' "$TMP/$name.$kind.out" | head -30 | sed 's/^/# /'
		fi
	done
done
[ $n -gt 0 ] || notok "fuzz targets are built in $CRM_BUILD/fuzz (make fuzz-bins)"

# the regressions once more under valgrind memcheck: an overflow that ASan
# reports may pass unnoticed in a plain build (not under make asan, where
# valgrind cannot run; skipped without valgrind)
if [ -n "${CRM_SANITIZE:-}" ] || ! command -v valgrind > /dev/null; then
	skip "regressions under valgrind" "sanitizer build or no valgrind"
else
	for bin in "$CRM_BUILD"/fuzz/fuzz_*; do
		[ -x "$bin" ] || continue
		name=$(basename "$bin")
		dir=$FUZZ/regressions/$name
		[ -n "$(ls "$dir" 2> /dev/null)" ] || continue
		if timeout 600 valgrind --quiet --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite --show-leak-kinds=definite \
			--suppressions="$CRM_TOP/tests/valgrind.supp" "$bin" -t 60000 "$dir" \
			> "$TMP/$name.vg.out" 2>&1; then
			ok "$name: regressions under valgrind: no memory error, no definite leak"
		else
			notok "$name: regressions under valgrind (exit $?)"
			grep -v '^ok ' "$TMP/$name.vg.out" | head -30 | sed 's/^/# /'
		fi
	done
fi

# every target has a seed corpus, and nothing fuzzing found is left unfiled
for src in "$FUZZ"/fuzz_*.c; do
	name=$(basename "$src" .c)
	check "$name has seeds in tests/fuzz/seeds/$name" test -n "$(ls "$FUZZ/seeds/$name" 2> /dev/null)"
done
