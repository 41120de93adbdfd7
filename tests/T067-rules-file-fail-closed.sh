#!/usr/bin/env bash
# T067-rules-file-fail-closed.sh - a RulesFile that is set must be the rules
# in force, or nothing runs: a typo or a relative path never puts the
# built-in rules (visibility: the whole workspace) in place of a file that
# keeps HR mail private.  crmctl import exits 2 before touching the store;
# crmilter refuses to start, and a SIGHUP that finds the file gone keeps the
# rules in use; relative paths are taken from crmilter.conf's folder; both
# refuse to work without Domains; crmilter logs the rules in force (file,
# sha256, count) at start and reload, and crmctl status shows them
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

# an HR offer to a candidate outside, private by a participant rule
mkdir -p "$TMP/etc" "$TMP/mail" "$TMP/elsewhere"
printf '[visibility]\nprivate "hr" if participant hr@example.com\n' > "$TMP/etc/hr.rules"
cat > "$TMP/mail/offer.eml" << 'EOF'
From: hr@example.com
To: candidate@outside.example
Subject: Your offer letter
Message-ID: <offer-1@example.com>
Date: Tue, 06 May 2025 09:00:00 +0000

The salary we offer is in the attachment.
EOF
conf() { # conf FILE [KEY VALUE]... - a configuration in $TMP/etc
	local f=$1; shift
	write_conf "$f" "$@"
	sed -i "s#^Database .*#Database $TMP/store.db#" "$f"
}
visibility() { sqlite3 -readonly "$TMP/store.db" "select visibility from threads" 2> /dev/null; }

# ---- crmctl import: a typo fails, before the store exists ----
conf "$TMP/etc/typo.conf" RulesFile "$TMP/etc/hr.rule"
"$CRMCTL" -c "$TMP/etc/typo.conf" import "$TMP/mail" > "$TMP/out" 2> "$TMP/err"
check_equal "import with a mistyped RulesFile exits 2" 2 $?
check "... and does not create or touch the store" test ! -e "$TMP/store.db"
check_grep "... naming the configuration line and the file" \
	"^crmctl: $TMP/etc/typo.conf:4: RulesFile $TMP/etc/hr.rule: No such file or directory" "$TMP/err"

# ---- a FIFO (or anything but a regular file) fails at once, never waits for a writer ----
mkfifo "$TMP/etc/fifo.rules" "$TMP/etc/fifo.conf"
conf "$TMP/etc/fifo-rules.conf" RulesFile "$TMP/etc/fifo.rules"
timeout 10 "$CRMCTL" -c "$TMP/etc/fifo-rules.conf" import "$TMP/mail" > "$TMP/out" 2> "$TMP/err"
check_equal "import with a FIFO as RulesFile exits 2 at once" 2 $?
check_grep "... saying it is not a regular file" \
	"fifo-rules.conf:4: RulesFile $TMP/etc/fifo.rules: not a regular file" "$TMP/err"
timeout 10 "$CRMCTL" -c "$TMP/etc/fifo.conf" stats > "$TMP/out" 2> "$TMP/err"
check_equal "a FIFO as the configuration file: exit 2 at once" 2 $?
check_grep "... saying it is not a regular file" "$TMP/etc/fifo.conf: not a regular file" "$TMP/err"
conf "$TMP/etc/dir-rules.conf" RulesFile "$TMP/elsewhere"
timeout 10 "$CRMCTL" -c "$TMP/etc/dir-rules.conf" import "$TMP/mail" > "$TMP/out" 2> "$TMP/err"
check_grep "a folder as RulesFile is not a regular file either" \
	"RulesFile $TMP/elsewhere: not a regular file" "$TMP/err"
check "... and nothing touched the store" test ! -e "$TMP/store.db"

# ---- a relative RulesFile is taken from the configuration's folder ----
conf "$TMP/etc/rel.conf" RulesFile hr.rules
(cd "$TMP/elsewhere" && "$CRMCTL" -c ../etc/rel.conf import "$TMP/mail") > /dev/null 2> "$TMP/err"
check_equal "a relative RulesFile, run from another folder, imports (exit 0)" 0 $?
check_equal "... under the file's rules: the HR offer is private" "participants" "$(visibility)"
check_equal "... whose provenance names the file by its full path" "$TMP/etc/hr.rules" \
	"$(sqlite3 -readonly "$TMP/store.db" "select distinct file from rules where line = 2")"
rm -f "$TMP/store.db"*

# ---- no RulesFile: the default, rules beside crmilter.conf, or built-in ----
mkdir "$TMP/etc2"
conf "$TMP/etc2/c.conf"
(cd "$TMP/etc" && "$CRMCTL" -c ../etc2/c.conf rules check) > "$TMP/out" 2>&1
check_equal "without RulesFile and without etc2/rules, the built-in rules are in force" \
	"$TMP/etc2/rules: absent: the built-in rules are in force (RulesFile is not set)" "$(cat "$TMP/out")"
cp "$TMP/etc/hr.rules" "$TMP/etc2/rules"
check_equal "... and once etc2/rules exists it is read (never the current folder's)" \
	"$TMP/etc2/rules: ok, 1 rules, sha256 $(sha256sum < "$TMP/etc/hr.rules" | cut -d' ' -f1)" \
	"$(cd "$TMP/etc" && "$CRMCTL" -c ../etc2/c.conf rules check)"

# ---- Domains is required ----
printf 'Database %s/store.db\nRulesFile hr.rules\n' "$TMP" > "$TMP/etc/nodomains.conf"
"$CRMCTL" -c "$TMP/etc/nodomains.conf" import "$TMP/mail" > /dev/null 2> "$TMP/err"
check_equal "import without Domains exits 2" 2 $?
check_grep "... and says why" "Domains is not set: crmctl import cannot tell" "$TMP/err"
check "... and does not create the store" test ! -e "$TMP/store.db"

# ---- crmilter ----
crm_alone "crmilter and the rules file"
chmod 755 "$TMP/etc"
chmod 644 "$TMP/etc/hr.rules"
mconf() { # mconf FILE [KEY VALUE]... - a crmilter configuration in $TMP/etc
	local f=$1; shift
	write_conf "$f" SpoolDirectory "$TMP/m/spool" PidFile "$TMP/m/run/pid" \
		Socket "unix:$TMP/m/run/s.sock" "$@"
	sed -i "s#^Database .*#Database $TMP/m/store/crm.db#" "$f"
}
mconf "$TMP/etc/m-typo.conf" RulesFile hr.rulez
timeout 10 "$CRM_BUILD/crmilter" -f -c "$TMP/etc/m-typo.conf" -u "$CRM_USER" > "$TMP/m.out" 2>&1
check_equal "crmilter refuses to start with a mistyped RulesFile (exit 2)" 2 $?
check_grep "... and says which line and file" \
	"^crmilter: $TMP/etc/m-typo.conf:7: RulesFile $TMP/etc/hr.rulez: No such file or directory" "$TMP/m.out"
printf 'SpoolDirectory %s/m/spool\nDatabase %s/m/store/crm.db\n' "$TMP" "$TMP" > "$TMP/etc/m-nodom.conf"
timeout 10 "$CRM_BUILD/crmilter" -f -c "$TMP/etc/m-nodom.conf" -u "$CRM_USER" > "$TMP/m.out" 2>&1
check_equal "crmilter refuses to start without Domains (exit 2)" 2 $?
check_grep "... and says why" "Domains is not set: crmilter cannot tell inbound from outbound" "$TMP/m.out"

# put N MSGID FROM TO - a message into the spool, as crmilter's milter side writes it
put() {
	spool_put "$TMP/m/spool" "$1" "R$1" $'From: '"$3"$'\nTo: '"$4"$'\nSubject: Offer '"$1"$'\nMessage-ID: <'"$2"$'>\nDate: Tue, 06 May 2025 12:00:00 +0000\n\nThe numbers.\n' \
		"$3" "$4" 1
}
drained() {
	local i=0
	while [ -n "$(ls -A "$TMP/m/spool/new")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -z "$(ls -A "$TMP/m/spool/new")" ]
}
inside_of() { sqlite3 -readonly -cmd ".timeout 5000" "$TMP/m/store/crm.db" \
	"select t.visibility from threads t join messages m on m.thread_id = t.id where m.msgid = '$1'"; }
wait_log() {
	local i=0
	while ! grep -q "$1" "$TMP/m.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	grep -q "$1" "$TMP/m.log"
}
sha=$(sha256sum < "$TMP/etc/hr.rules" | cut -d' ' -f1)
mconf "$TMP/etc/m.conf" RulesFile hr.rules
check "crmilter starts with a relative RulesFile" crm_start "$TMP/etc/m.conf" "$TMP/m.log"
# (logged once it runs as the service user: after the socket is there)
check "it logs the rules in force: file, sha256, count" \
	wait_log "crmilter: rules in force: $TMP/etc/hr.rules, sha256 $sha, 1 rule$"
put 1 hr-1@example.com hr@example.com cand1@outside.example
check "an HR mail is ingested" drained
check_equal "... private under the file's rules" participants "$(inside_of hr-1@example.com)"
"$CRMCTL" -c "$TMP/etc/m.conf" status > "$TMP/status" 2>&1
check_grep "crmctl status shows the rules file" "^rules:      $TMP/etc/hr.rules, 1 rules, sha256 $sha$" "$TMP/status"
check_grep "... and that crmilter has the same in force" "^in force:   the same, since " "$TMP/status"

mv "$TMP/etc/hr.rules" "$TMP/etc/hr.rules.moved"
kill -HUP "$CRM_PID"
check "a SIGHUP with the rules file gone is refused, and logged" \
	wait_log "keeping the configuration and rules in use"
check_grep "... with the reason" "warning: $TMP/etc/m.conf:7: RulesFile $TMP/etc/hr.rules: No such file or directory" "$TMP/m.log"
put 2 hr-2@example.com hr@example.com cand2@outside.example
check "the next HR mail is ingested" drained
check_equal "... still private: the built-in rules never took over" participants "$(inside_of hr-2@example.com)"
"$CRMCTL" -c "$TMP/etc/m.conf" status > "$TMP/status" 2>&1
check_grep "crmctl status warns that the rules file does not load" \
	"rules: $TMP/etc/m.conf:7: RulesFile $TMP/etc/hr.rules: No such file or directory.*keeps the rules in force" "$TMP/status"

mv "$TMP/etc/hr.rules.moved" "$TMP/etc/hr.rules"
printf 'private "hr" if participant hr@example.com\n' >> "$TMP/etc/hr.rules"
"$CRMCTL" -c "$TMP/etc/m.conf" status > "$TMP/status" 2>&1
check_grep "an edited file not yet reloaded: status says to reload" \
	"crmilter has older rules in force (sha256 ${sha:0:12}...): reload it (SIGHUP)" "$TMP/status"
kill -HUP "$CRM_PID"
check "the reload after the fix logs the new rules" wait_log "rules in force: $TMP/etc/hr.rules, sha256 $(sha256sum < "$TMP/etc/hr.rules" | cut -d' ' -f1), 2 rules"
"$CRMCTL" -c "$TMP/etc/m.conf" status > "$TMP/status" 2>&1
check_grep "... and status agrees again" "^in force:   the same, since " "$TMP/status"
crm_stop TERM
exit 0
