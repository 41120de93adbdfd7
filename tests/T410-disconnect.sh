#!/usr/bin/env bash
# T410-disconnect.sh - crmctl disconnect, reconnect and mailboxes through a
# real Postfix and crmilter: once alice@example.com is disconnected (while
# crmilter runs, no restart), a message whose only internal participant is
# her is kept as a skipped metadata row "disconnected mailbox", one that also
# has a connected internal participant (Cc or envelope recipient) is logged,
# threads logged before stay exactly as they were, crmctl import and rules
# explain obey it, the audit says who and when; after reconnect her mail is
# logged again; bad addresses fail with a clear message; Postfix delivers
# every message throughout
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "disconnect through Postfix and crmilter"
fault_setup

ctl() { env -u SUDO_USER "$CRMCTL" -c "$CONF" "$@"; }

# mail1 PREFIX I FROM TO CC RCPT... - send <PREFIX-I@test.example> over SMTP
# (CC "-": none); its Message-ID is added to $TMP/PREFIX.sent
mail1() {
	python3 - "$SMTP" "$TMP" "$@" >> "$TMP/$1.send.out" 2>&1 <<'PY'
import smtplib, sys
port, tmp, prefix, i, frm, to, cc = sys.argv[1:8]
mid = f"{prefix}-{i}@test.example"
msg = (f"From: <{frm}>\r\nTo: <{to}>\r\n" + (f"Cc: <{cc}>\r\n" if cc != "-" else "") +
       f"Subject: {prefix} {i}\r\nMessage-ID: <{mid}>\r\n"
       "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n" f"{prefix} message {i}\r\n")
with smtplib.SMTP("127.0.0.1", int(port), timeout=60) as s:
    s.sendmail(frm, sys.argv[8:], msg)
with open(f"{tmp}/{prefix}.sent", "a") as f:
    f.write(mid + "\n")
PY
}

# delivered PREFIX - every message of PREFIX went through Postfix, each once
delivered() {
	sort -o "$TMP/$1.sent" "$TMP/$1.sent"
	check_delivered "$1"
}

# count_is PREFIX N - the store holds N messages of PREFIX
count_is() { [ "$(q "select count(*) from messages where msgid like '$1-%'")" = "$2" ]; }

# stored PREFIX N - wait until crmilter has stored N messages of PREFIX
stored() { wait_for 60 count_is "$1" "$2"; }

# dated - crmctl output with its times as YYYY-MM-DD hh:mm:ss
dated() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/YYYY-MM-DD hh:mm:ss/g'; }

# rows PREFIX - each message of PREFIX: id, log, reason, in a thread, subject,
# participants, raw rows
rows() {
	q "select msgid, log, coalesce(log_reason, '-'), thread_id is not null, subject,
		  (select count(*) from participants p where p.message_id = m.id),
		  (select count(*) from raw r where r.message_id = m.id)
	   from messages m where msgid like '$1-%' order by msgid"
}

# earlier - the messages logged before, with their threads, participants and links
earlier() {
	q "select m.msgid, m.log, m.thread_id, t.messages, t.subject, t.visibility,
		  (select group_concat(role || ':' || address, ' ') from (select role, address
		   from participants p where p.message_id = m.id order by role, address)),
		  (select count(*) from links l where l.thread_id = t.id)
	   from messages m join threads t on t.id = m.thread_id where m.msgid like 'b-%'
	   order by m.msgid"
}

# ---- before: alice's mail is logged ----
mail1 b 1 dave@acme.com alice@example.com - alice@example.com
mail1 b 2 alice@example.com dave@acme.com - dave@acme.com
mail1 b 3 dave@acme.com bob@example.com - bob@example.com
check "crmilter stores the 3 messages sent before" stored b 3
check_equal "all 3 are logged" "3" "$(q "select count(*) from messages where msgid like 'b-%' and log = 'logged'")"
delivered b
earlier > "$TMP/earlier.before"
check_equal "each earlier message is in a thread with its participants" 3 \
	"$(grep -c '|logged|[0-9]*|1|b [123]|.*:' "$TMP/earlier.before")"

cat > "$TMP/mb.0" <<'EOF'
MAILBOX                              STATE        SINCE               BY                   MESSAGES
alice@example.com                    connected    -                   -                    2
bob@example.com                      connected    -                   -                    1
EOF
check_output "crmctl mailboxes lists both mailboxes, connected" "$TMP/mb.0" ctl mailboxes

# ---- disconnect alice while crmilter runs ----
pid_before=$CRM_PID
t0=$(date +%s)
ctl disconnect Alice@Example.COM > "$TMP/disc.out" 2>&1
check_equal "crmctl disconnect succeeds" 0 $?
t1=$(date +%s)
check_equal "and says what it did and what happens now" \
	"alice@example.com: disconnected at YYYY-MM-DD hh:mm:ss by root: new mail is logged only when a connected mailbox takes part; the 2 messages logged before stay" \
	"$(dated < "$TMP/disc.out")"
ctl disconnect alice@example.com > "$TMP/disc2.out" 2>&1
check_equal "disconnecting twice succeeds" 0 $?
check_equal "and changes nothing" \
	"alice@example.com: already disconnected since YYYY-MM-DD hh:mm:ss by root; nothing changed" \
	"$(dated < "$TMP/disc2.out")"
check_equal "one audit row: who, what, which mailbox, when" "root|disconnect|alice@example.com|1" \
	"$(q "select who, action, detail, at between $t0 and $t1 from audit order by id")"
check_equal "the mailbox row: disconnected, changed at the audit's time" "disconnected|1" \
	"$(q "select state, changed = (select at from audit) from mailboxes where address = 'alice@example.com'")"

# ---- after: only-alice mail skipped, mail with a connected colleague logged ----
mail1 d 1 dave@acme.com alice@example.com - alice@example.com
mail1 d 2 alice@example.com dave@acme.com - dave@acme.com
mail1 d 3 dave@acme.com alice@example.com bob@example.com alice@example.com bob@example.com
mail1 d 4 dave@acme.com alice@example.com - alice@example.com bob@example.com
mail1 d 5 dave@acme.com zed@other.org - zed@other.org
mail1 d 6 bob@example.com dave@acme.com - dave@acme.com
check "crmilter stores the 6 messages sent after" stored d 6
delivered d
check_equal "crmilter was not restarted" "$pid_before" "$CRM_PID"
kill -0 "$CRM_PID" 2> /dev/null
check_equal "and still runs" 0 $?
cat > "$TMP/rows.d" <<'EOF'
d-1@test.example|skipped|disconnected mailbox|0||0|0
d-2@test.example|skipped|disconnected mailbox|0||0|0
d-3@test.example|logged|conversation|1|d 3|5|1
d-4@test.example|logged|conversation|1|d 4|4|1
d-5@test.example|logged|conversation|1|d 5|3|1
d-6@test.example|logged|conversation|1|d 6|3|1
EOF
check_equal "only-alice mail is a skipped metadata row; with bob (Cc, envelope) or no one inside it is logged" \
	"$(cat "$TMP/rows.d")" "$(rows d)"
check_equal "crmilter logs the two skips with their reason" 2 \
	"$(grep -c 'message-id=<d-[12]@test.example> .*skipped: disconnected mailbox' "$LOG")"
earlier > "$TMP/earlier.after"
check "threads logged before are unchanged (messages, threads, participants, links)" \
	diff "$TMP/earlier.before" "$TMP/earlier.after"

# crmctl import obeys it too
printf 'From: <dave@acme.com>\nTo: <alice@example.com>\nSubject: imp 1\nMessage-ID: <imp-1@test.example>\nDate: Mon, 01 Jan 2024 11:00:00 +0000\n\nimported\n' \
	> "$TMP/imp-1.eml"
check "crmctl import runs" ctl import "$TMP/imp-1.eml"
check_equal "an imported message with only alice inside is skipped too" \
	"imp-1@test.example|skipped|disconnected mailbox|0||0|0" "$(rows imp)"

# rules explain shows it
ctl rules explain "$TMP/imp-1.eml" > "$TMP/explain.out" 2>&1
check_grep "rules explain says skip: disconnected mailbox" '^log  *skip "disconnected mailbox"' "$TMP/explain.out"
check_equal "rules explain --json too" "skip|disconnected mailbox" \
	"$(ctl rules explain --json "$TMP/imp-1.eml" | python3 -c 'import json, sys; l = json.load(sys.stdin)["log"]; print(l["decision"] + "|" + l["reason"])')"
sed 's/^To: .*/To: <alice@example.com>, <bob@example.com>/' "$TMP/imp-1.eml" > "$TMP/imp-2.eml"
ctl rules explain "$TMP/imp-2.eml" > "$TMP/explain2.out" 2>&1
check_grep "with bob on it, rules explain logs it" '^log  *log' "$TMP/explain2.out"

cat > "$TMP/mb.1" <<'EOF'
MAILBOX                              STATE        SINCE               BY                   MESSAGES
alice@example.com                    disconnected YYYY-MM-DD hh:mm:ss root                 4
bob@example.com                      connected    -                   -                    4
EOF
ctl mailboxes | dated > "$TMP/mb.1.out"
check "crmctl mailboxes: alice disconnected, since, by root, 4 logged messages" \
	diff "$TMP/mb.1" "$TMP/mb.1.out"
check_equal "crmctl mailboxes --json" \
	"alice@example.com disconnected root 4 True|bob@example.com connected None 4 False" \
	"$(ctl mailboxes --json | python3 -c 'import json, sys, re
print("|".join("%s %s %s %d %s" % (m["address"], m["state"], m["by"], m["messages"],
      bool(m["since"] and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["since"])))
      for m in json.load(sys.stdin)))')"

# ---- errors: exit 2, a clear message, nothing written ----
ctl disconnect dave@acme.com > "$TMP/err.out" 2>&1
check_equal "an external address is refused (exit 2)" 2 $?
check_equal "saying it is not an own domain" \
	"crmctl: dave@acme.com: not in the own domains (Domains in $CONF): only an internal mailbox can be disconnected" \
	"$(cat "$TMP/err.out")"
ctl disconnect nobody@example.com > "$TMP/err.out" 2>&1
check_equal "an unknown mailbox is refused (exit 2)" 2 $?
check_grep "saying it is unknown and what to do" \
	'^crmctl: nobody@example.com: unknown mailbox: .*check the address, or use --force' "$TMP/err.out"
ctl reconnect nobody@example.com > "$TMP/err.out" 2>&1
check_equal "reconnecting an unknown mailbox is refused (exit 2)" 2 $?
ctl disconnect not-an-address > "$TMP/err.out" 2>&1
check_equal "a word that is no address is refused (exit 2)" 2 $?
check_equal "saying so" "crmctl: not-an-address: not a mailbox address" "$(cat "$TMP/err.out")"
check_equal "no audit row was written for them" 1 "$(q "select count(*) from audit")"

# ---- reconnect (through sudo) and --force ----
SUDO_USER=tester "$CRMCTL" -c "$CONF" reconnect alice@example.com > "$TMP/rec.out" 2>&1
check_equal "crmctl reconnect succeeds" 0 $?
check_equal "and says so, naming the sudo user" \
	"alice@example.com: reconnected at YYYY-MM-DD hh:mm:ss by tester (sudo root): its mail is logged again" \
	"$(dated < "$TMP/rec.out")"
ctl reconnect alice@example.com > "$TMP/rec2.out" 2>&1
check_equal "reconnecting twice changes nothing" \
	"0 alice@example.com: already connected since YYYY-MM-DD hh:mm:ss by tester (sudo root); nothing changed" \
	"$? $(dated < "$TMP/rec2.out")"
check "crmctl disconnect --force takes a mailbox not seen yet" ctl disconnect --force new@example.com
check_equal "the audit has the reconnect and the forced disconnect" \
	"tester (sudo root)|reconnect|alice@example.com
root|disconnect|new@example.com" "$(q "select who, action, detail from audit where id > 1 order by id")"
mail1 r 1 dave@acme.com alice@example.com - alice@example.com
mail1 r 2 dave@acme.com new@example.com - new@example.com
check "crmilter stores the 2 messages sent after reconnect" stored r 2
delivered r
check_equal "alice's mail is logged again; new's is skipped" \
	"r-1@test.example|logged|conversation|1|r 1|3|1
r-2@test.example|skipped|disconnected mailbox|0||0|0" "$(rows r)"
cat > "$TMP/mb.2" <<'EOF'
MAILBOX                              STATE        SINCE               BY                   MESSAGES
alice@example.com                    connected    YYYY-MM-DD hh:mm:ss tester (sudo root)   5
bob@example.com                      connected    -                   -                    4
new@example.com                      disconnected YYYY-MM-DD hh:mm:ss root                 0
EOF
ctl mailboxes | dated > "$TMP/mb.2.out"
check "crmctl mailboxes after reconnect and --force" diff "$TMP/mb.2" "$TMP/mb.2.out"
earlier > "$TMP/earlier.end"
check "threads logged before are still unchanged" diff "$TMP/earlier.before" "$TMP/earlier.end"
check_equal "nothing failed in the spool" 0 "$(ls "$SPOOL_DIR/failed" | wc -l)"
