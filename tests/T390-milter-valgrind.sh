#!/usr/bin/env bash
# T390-milter-valgrind.sh - crmilter under valgrind memcheck behind a real
# Postfix: inbound and outbound mail of several sizes and every fixture
# message of tests/corpora/mail (multipart, attachments, legacy charsets,
# message/rfc822, bounces, auto-replies, no Message-ID) pass the milter and
# its ingest worker; Postfix delivers all of it, the store gets it, and after
# SIGTERM valgrind reports no memory error and no definite leak.  Only
# library false positives are suppressed (tests/valgrind.supp, each one
# explained).  Skips without valgrind, and under `make asan` (valgrind cannot
# run an ASan build).
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"

if [ -n "${CRM_SANITIZE:-}" ]; then
	skip "crmilter under valgrind" "sanitizer build"; exit 0
fi
if ! command -v valgrind > /dev/null; then
	skip "crmilter under valgrind" "no valgrind (apt-get install valgrind)"; exit 0
fi
fault_requirements "crmilter under valgrind"

VG_LOG=$TMP/valgrind.log
CRM_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
	--show-leak-kinds=definite --child-silent-after-fork=yes --num-callers=30
	--suppressions=$CRM_TOP/tests/valgrind.supp --log-file=$VG_LOG"
export CRM_WRAPPER
t0=$(date +%s)
fault_setup
ok "crmilter starts under valgrind memcheck and Postfix uses it"
unset CRM_WRAPPER

# inbound, with a few large ones; outbound through the submission port
check "24 inbound messages (2 kB to 1 MB) are sent" send vgin 24 --clients 3 --sizes 2k:6,64k:2,1M:1
python3 "$CRM_TOP/tests/milter/send.py" "$SUB" 12 vgout --clients 2 --sizes 4k:1 \
	--from alice@example.com --to dave@acme.com --out "$TMP/vgout.sent" > "$TMP/vgout.send.out" 2>&1
check_equal "12 outbound messages are sent" 0 $?
# every fixture message as it is, envelope from its own From (or a null sender)
python3 - "$SMTP" "$CORPORA/mail" > "$TMP/corpus.out" 2>&1 <<'PY'
import email.utils, os, re, smtplib, sys
port, folder = int(sys.argv[1]), sys.argv[2]
sent = 0
with smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
    for name in sorted(os.listdir(folder)):
        raw = open(os.path.join(folder, name), "rb").read()
        m = re.search(rb"^From:.*?<?([^<>\s]+@[^<>\s]+?)>?\s*$", raw, re.M | re.I)
        frm = m.group(1).decode("ascii", "replace") if m else ""
        if b"MAILER-DAEMON" in raw[:2000]:
            frm = ""
        s.sendmail(frm, ["alice@example.com"], raw)
        sent += 1
print("sent", sent)
PY
check_grep "the 46 fixture messages are sent" '^sent 46$' "$TMP/corpus.out"

check_delivered vgin
check_delivered vgout
check "Postfix delivers the fixture messages too" pf_wait_empty "$PF" 120
check "the worker (under valgrind) drains the spool" wait_spool_empty 120
check_stored_once vgin
check_stored_once vgout
check_equal "no message failed to ingest" 0 "$(ls "$SPOOL_DIR/failed" 2> /dev/null | grep -vc '\.reason$')"
n=$(q "select count(*) from messages where id in (select message_id from message_sources where source = 'milter')")
if [ "${n:-0}" -ge $((24 + 12 + 40)) ]; then
	ok "the store holds the milter's messages ($n distinct)"
else
	notok "the store holds the milter's messages (${n:-none})"
fi

# stop with SIGTERM: crmilter frees everything; valgrind's exit status says the rest
kill -TERM "$CRM_PID"
running() { [ -r "/proc/$CRM_PID/status" ] && ! grep -q '^State:.*zombie' "/proc/$CRM_PID/status"; }
i=0
while [ $i -lt 1200 ] && running; do sleep 0.1; i=$((i + 1)); done
running && kill -KILL "$CRM_PID"	# a stop that hangs fails the test, not the suite
wait "$CRM_PID"
rc=$?
CRM_PID=
check_equal "crmilter exits 0 after SIGTERM under valgrind (99: memcheck errors)" 0 "$rc"
check_grep "memcheck: no errors (definite leaks counted as errors)" 'ERROR SUMMARY: 0 errors' "$VG_LOG"
if grep -q 'definitely lost: [1-9]' "$VG_LOG"; then
	notok "no definite leak"
	grep -A12 'definitely lost in' "$VG_LOG" | head -40 | sed 's/^/# /'
else
	ok "no definite leak ($(grep -o 'definitely lost: [0-9,]* bytes' "$VG_LOG" | tail -1 || echo 'none reported'))"
fi
if grep -q 'ERROR SUMMARY: [1-9]' "$VG_LOG"; then
	grep -B2 -A20 '^==[0-9]*== [A-Z][a-z]' "$VG_LOG" | head -60 | sed 's/^/# /'
fi
echo "# T390 took $(( $(date +%s) - t0 )) s"
