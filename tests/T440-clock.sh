#!/usr/bin/env bash
# T440-clock.sh - a wrong clock never purges or re-dates mail (faketime):
# crmilter behind a private Postfix holds 250 messages of the last 700 days
# and Retention 730d.  With its clock 3 years ahead, its daily purge and
# crmctl purge refuse (they would take nearly the whole store) and delete
# nothing, until crmctl purge --force; a clock that stamped the latest mail
# years after its Date is seen to be ahead; with the clock 30 days behind,
# correctly dated mail keeps its Date; a last purge dated in the future
# (left by a clock that was ahead) does not stop the daily purge once the
# clock is right.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "a wrong clock through Postfix and crmilter"
command -v faketime > /dev/null || { skip "a wrong clock" "needs faketime"; exit 0; }
NOW=$(date +%s)
AHEAD="+1095d" BEHIND="-30d"
# at_clock OFFSET CMD... - CMD with its clock moved by OFFSET (libfaketime; crmilter
# gets it through CRM_WRAPPER and env, which execs: its pid is crmilter's own)
FAKELIB=$(dpkg -L libfaketime 2> /dev/null | grep '/libfaketimeMT.so.1$' | head -1)
[ -n "$FAKELIB" ] || { skip "a wrong clock" "needs libfaketime"; exit 0; }
at_clock() { local off=$1; shift; env LD_PRELOAD="$FAKELIB" FAKETIME="$off" "$@"; }

# 250 messages dated over the last 700 days, imported
python3 - "$TMP/old.mbox" "$NOW" <<'PY'
import sys, time
out, now = sys.argv[1], int(sys.argv[2])
with open(out, "w") as f:
    for i in range(250):
        t = now - 86400 - i * 2 * 86400 - i * 600
        d = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))
        f.write("From dave@acme.com %s\n" % time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(t)))
        f.write("From: Dave <dave@acme.com>\nTo: alice@example.com\nSubject: Order %d\n"
                "Message-ID: <old-%d@acme.com>\nDate: %s\n\nOrder number %d.\n\n" % (i, i, d, i))
PY
fault_setup Retention 730d InternalHosts 192.0.2.0/24
ctl() { env -u SUDO_USER "$CRMCTL" -c "$CONF" "$@"; }
count() { q "SELECT count(*) FROM messages"; }
count_is() { [ "$(count)" = "$1" ]; }
crm_stop
check "250 messages of the last 700 days import" ctl import "$TMP/old.mbox"
chown -R "$CRM_USER" "$STORE_DIR"

# now_mail PREFIX N - N messages dated now, each with its sender's Received stamp
now_mail() {
	python3 - "$SMTP" "$1" "$2" <<'PY' >> "$TMP/send.out" 2>&1
import smtplib, sys, time
port, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(time.time()))
with smtplib.SMTP("127.0.0.1", int(port), timeout=60) as s:
    for i in range(n):
        msg = ("Received: from mail.acme.com (mail.acme.com [198.51.100.7])\r\n"
               "\tby mx.acme.com with ESMTPS id X%d; %s\r\n"
               "From: Dave <dave@acme.com>\r\nTo: alice@example.com\r\nSubject: Now %d\r\n"
               "Message-ID: <%s-%d@acme.com>\r\nDate: %s\r\n\r\nWritten now.\r\n"
               % (i, d, i, prefix, i, d))
        s.sendmail("dave@acme.com", ["alice@example.com"], msg)
PY
}

# a few through crmilter, so the store holds live arrivals
crm_start "$CONF" "$LOG" -v
now_mail live 5
check "crmilter stores 5 live messages" wait_for 60 count_is 255
check_equal "with the right clock, the daily purge deletes nothing (all within 730 days)" 255 "$(count)"

# ---- the clock 3 years ahead ----
crm_stop
sqlite3 "$DB" "DELETE FROM audit"
CRM_WRAPPER="env LD_PRELOAD=$FAKELIB FAKETIME=$AHEAD" crm_start "$CONF" "$LOG" -v
check "crmilter 3 years ahead refuses its daily purge, and says why" \
	wait_for 30 grep -q "retention purge (Retention 730d) refused, nothing deleted: it would delete 255 of the 255 messages" "$LOG"
check_equal "... and deletes nothing" 255 "$(count)"
check_equal "... and audits no purge" 0 "$(q "SELECT count(*) FROM audit WHERE action = 'purge'")"
now_mail ahead 10
check "... while mail goes on being stored" wait_for 60 count_is 265
crm_stop
at_clock "$AHEAD" env -u SUDO_USER "$CRMCTL" -c "$CONF" purge > "$TMP/out" 2> "$TMP/err"
check_equal "crmctl purge 3 years ahead refuses (exit 1)" 1 $?
check_grep "... as the latest mail arrived 3 years after its Date" \
	"purge refused, nothing deleted: the clock looks 109[45] days ahead" "$TMP/err"
env -u SUDO_USER "$CRMCTL" -c "$CONF" purge > "$TMP/out" 2> "$TMP/err"
check_equal "so does crmctl purge with the clock right again, while the latest mail was dated by it" 1 $?
sqlite3 "$DB" "UPDATE message_sources SET arrival = arrival - 1095 * 86400 WHERE arrival > $NOW + 86400"
at_clock "$AHEAD" env -u SUDO_USER "$CRMCTL" -c "$CONF" purge --dry-run > "$TMP/out" 2> "$TMP/err"
check_equal "with no skew in the latest mail, a purge 3 years ahead is still refused (exit 1)" 1 $?
check_grep "... because it would take nearly the whole store" \
	"purge refused, nothing deleted: it would delete 265 of the 265 messages (100%), more than 10% at once: check the clock" "$TMP/err"
check_equal "... nothing deleted" 265 "$(count)"

# ---- the clock 30 days behind ----
CRM_WRAPPER="env LD_PRELOAD=$FAKELIB FAKETIME=$BEHIND" crm_start "$CONF" "$LOG" -v
SENT_AT=$(date +%s)
now_mail behind 20
check "crmilter 30 days behind stores 20 correctly dated messages" wait_for 60 count_is 285
check_equal "... each keeps its Date (none re-dated by the wrong clock)" 20 \
	"$(q "SELECT count(*) FROM messages WHERE msgid LIKE 'behind-%' AND abs(date - $SENT_AT) < 60")"
check_equal "... and none is marked as having a bad date" 0 \
	"$(q "SELECT count(*) FROM messages WHERE msgid LIKE 'behind-%' AND warnings LIKE '%Date absurd%'")"
crm_stop

# ---- a last purge dated 3 years ahead, the clock right again ----
python3 - "$TMP/older.mbox" "$NOW" <<'PY'
import sys, time
out, now = sys.argv[1], int(sys.argv[2])
with open(out, "w") as f:
    for i in range(3):
        t = now - 800 * 86400 - i * 86400
        d = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))
        f.write("From dave@acme.com Mon Jan  1 00:00:00 2024\nFrom: dave@acme.com\nTo: alice@example.com\n"
                "Subject: Ancient %d\nMessage-ID: <ancient-%d@acme.com>\nDate: %s\n\nOld.\n\n" % (i, i, d))
PY
ctl import "$TMP/older.mbox" > /dev/null
sqlite3 "$DB" "INSERT INTO audit (at, who, action, detail) VALUES ($NOW + 1095 * 86400, 'crmilter', 'purge', 'by a clock 3 years ahead')"
chown -R "$CRM_USER" "$STORE_DIR"
crm_start "$CONF" "$LOG" -v
check "with the clock right, a last purge dated in the future does not hold the daily purge back" \
	wait_for 30 grep -q "retention purge (Retention 730d): 3 messages" "$LOG"
check_grep "... and crmilter says the clock was wrong" "the last purge is dated .* after now: the clock was or is wrong" "$LOG"
check_equal "... it deleted the 3 messages older than 730 days, and only them" "0|285" \
	"$(q "SELECT count(*) FROM messages WHERE msgid LIKE 'ancient-%'")|$(count)"
crm_stop

# ---- --force: the admin confirms ----
at_clock "$AHEAD" env -u SUDO_USER "$CRMCTL" -c "$CONF" purge --force > "$TMP/out" 2> "$TMP/err"
check_equal "crmctl purge --force 3 years ahead runs (exit 0)" 0 $?
check_equal "... and deletes what the clock says is old" 0 "$(count)"
exit 0
