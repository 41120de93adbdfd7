#!/usr/bin/env bash
# T386-spool-hostile.sh - crmilter started as root never follows a link
# planted in its folders, and its worker takes only the files it wrote.
# Stand-ins for /etc/shadow live in the test's own folder: a link at the
# spool's lock file, at tmp/ or new/, or at the pid file, must leave them
# root's (crmilter refuses to start, naming the path); a group-writable spool
# is refused.  In new/, a link to a valid message elsewhere, a FIFO, a file
# of another owner and a dangling link each move to failed/ once with their
# reason, are never stored, and do not hold up the next message.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

crm_alone "hostile spool"
mkdir -p "$TMP/decoy"
echo "root:secret" > "$TMP/decoy/shadow"
chmod 600 "$TMP/decoy/shadow"
mkdir -p "$TMP/decoy/dir"
owner() { stat -c '%U' "$1"; }

# setup - a fresh spool, store and run folder in $TMP/m, and m.conf
setup() {
	rm -rf "$TMP/m"
	mkdir -p "$TMP/m/spool/tmp" "$TMP/m/spool/new" "$TMP/m/spool/failed" "$TMP/m/store" "$TMP/m/run"
	chown -R "$CRM_USER" "$TMP/m"
	chmod 750 "$TMP/m/spool" "$TMP/m/spool/tmp" "$TMP/m/spool/new" "$TMP/m/spool/failed"
	write_conf "$TMP/m.conf" SpoolDirectory "$TMP/m/spool" PidFile "$TMP/m/run/pid" \
		Socket "unix:$TMP/m/run/s.sock"
	sed -i "s#^Database .*#Database $TMP/m/store/crm.db#" "$TMP/m.conf"
}
# refused WHAT PATTERN - crmilter (as root) exits non-zero, saying PATTERN,
# and the stand-ins are still root's
refused() {
	timeout 20 "$CRM_BUILD/crmilter" -f -c "$TMP/m.conf" -u "$CRM_USER" > "$TMP/out" 2>&1
	local rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "$2" "$TMP/out"; then
		ok "$1: crmilter refuses to start ($(grep -m1 "$2" "$TMP/out" | sed 's/^crmilter: //'))"
	else
		notok "$1: crmilter refuses to start (exit $rc)"
		sed 's/^/# /' "$TMP/out" | head -5
	fi
	check_equal "$1: the stand-in for /etc/shadow is still root's" "root root" \
		"$(owner "$TMP/decoy/shadow") $(owner "$TMP/decoy/dir")"
	chown root:root "$TMP/decoy/shadow" "$TMP/decoy/dir"
}

setup
ln -s "$TMP/decoy/shadow" "$TMP/m/spool/.lock"
refused "a link at the spool's lock file" "\.lock: is a symbolic link"
setup
rmdir "$TMP/m/spool/tmp"
ln -s "$TMP/decoy/dir" "$TMP/m/spool/tmp"
refused "tmp/ a link" "spool/tmp: is a symbolic link"
setup
rmdir "$TMP/m/spool/new"
ln -s "$TMP/decoy/dir" "$TMP/m/spool/new"
refused "new/ a link" "spool/new: is a symbolic link"
setup
ln -s "$TMP/decoy/shadow" "$TMP/m/run/pid"
refused "a link at the pid file" "pid file .*: is a symbolic link"
check_equal "... which is not written through" "root:secret" "$(cat "$TMP/decoy/shadow")"
setup
chmod 770 "$TMP/m/spool/new"
refused "a group-writable new/" "spool/new: writable by group or others"

# ---- odd files in new/ ----
setup
check "crmilter starts on a sound spool" crm_start "$TMP/m.conf" "$TMP/m.log"
# msg NAME MSGID - a valid spool file named NAME in $TMP/outside
msg() {
	local body=$'From: dave@acme.com\nTo: alice@example.com\nSubject: Odd '"$2"$'\nMessage-ID: <'"$2"$'>\nDate: Tue, 06 May 2025 12:00:00 +0000\n\nHello.\n'
	{ printf 'CRMSPOOL1 %020d\n' $((31 + ${#body})); printf '%s' "$body"
	  printf 'queue-id Q1\nmail-from dave@acme.com\nrcpt alice@example.com\narrival 1746532800\noriginated 0\n'; } > "$1"
}
mkdir -p "$TMP/outside"
msg "$TMP/outside/valid" linked@acme.com
chown "$CRM_USER" "$TMP/outside/valid"
# made with their owners in a folder of their own, then renamed into new/
# at once: the running worker never sees one before its owner is set
mkdir "$TMP/m/stage"
ln -s "$TMP/outside/valid" "$TMP/m/stage/1746532800.000001.1_1.LINK"
mkfifo "$TMP/m/stage/1746532800.000002.1_2.FIFO"
ln -s "$TMP/nowhere" "$TMP/m/stage/1746532800.000004.1_4.DANGLING"
msg "$TMP/m/stage/1746532800.000009.1_9.GOOD" good@acme.com
chown -h "$CRM_USER" "$TMP/m/stage/"*
msg "$TMP/m/stage/1746532800.000003.1_3.ROOT" rootowned@acme.com
chown root "$TMP/m/stage/1746532800.000003.1_3.ROOT"
mv "$TMP/m/stage/"* "$TMP/m/spool/new/"
i=0; while [ -n "$(ls -A "$TMP/m/spool/new")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_equal "new/ is emptied" "" "$(ls -A "$TMP/m/spool/new")"
stored=$(sqlite3 -readonly -cmd ".timeout 5000" "$TMP/m/store/crm.db" "select msgid from messages order by msgid" | tr '\n' ' ')
check_equal "only the message crmilter could have written is stored" "good@acme.com " "$stored"
for k in LINK:"a symbolic link" FIFO:"not a regular file" ROOT:"owned by another user" DANGLING:"a symbolic link"; do
	n=${k%%:*} why=${k#*:}
	f=$(ls "$TMP/m/spool/failed" | grep "\.$n\$")
	check "the $n entry is in failed/ with its reason ($why)" \
		grep -q "$why" "$TMP/m/spool/failed/$f.reason"
done
check_equal "each was logged once" 4 "$(grep -c 'NOQUEUE: .*moved to failed/' "$TMP/m.log")"
"$CRMCTL" -c "$TMP/m.conf" status > "$TMP/status" 2>&1
check_grep "crmctl status counts them" "4 messages in failed/" "$TMP/status"
crm_stop TERM
exit 0
