#!/usr/bin/env bash
# T051-corpus-valgrind.sh - the shared corpus imports under valgrind memcheck
# with no memory error and no definite leak.  Skips when the corpus or
# valgrind is absent, and under `make asan` (valgrind cannot run ASan builds).
. "$(dirname "$0")/test-lib.sh"

if [ -n "${CRM_SANITIZE:-}" ]; then
	skip "corpus under valgrind" "sanitizer build"; exit 0
fi
if [ ! -d "$SHARED_CORPUS" ] || ! command -v valgrind > /dev/null; then
	skip "corpus under valgrind" "no corpus or no valgrind"; exit 0
fi

write_conf "$TMP/c.conf"
valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --suppressions="$CRM_TOP/tests/valgrind.supp" \
	"$CRMCTL" -c "$TMP/c.conf" import "$SHARED_CORPUS" > "$TMP/out" 2> "$TMP/err"
rc=$?
if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then
	ok "the whole shared corpus imports under valgrind: no error, no definite leak ($(cat "$TMP/out"))"
else
	notok "valgrind reported errors or a crash (exit $rc)"
	grep '^==' "$TMP/err" | head -40 | sed 's/^/# /'
fi
