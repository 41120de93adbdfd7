#!/usr/bin/env bash
# T380-security.sh - crmilter will not run as root; its spool and store
# files belong to the service user and no one else can read them; header and
# body values full of SQL, shell and HTML metacharacters, terminal escapes,
# NUL bytes, overlong lines and invalid UTF-8 pass through Postfix and are
# stored as data and shown inert
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "security"

# ---- never root ----
write_conf "$TMP/root.conf" Socket "unix:$TMP/root.sock" SpoolDirectory "$TMP/rootspool" UserID root
check_fails "crmilter refuses UserID root" timeout 10 "$CRM_BUILD/crmilter" -f -c "$TMP/root.conf"
check_grep "... and says why" 'refuses to run as root' "$TMP/out"
check_fails "crmilter refuses -u root" timeout 10 "$CRM_BUILD/crmilter" -f -c "$TMP/root.conf" -u root
check_fails "crmilter refuses -u 0 (a uid-0 name is root too)" \
	timeout 10 "$CRM_BUILD/crmilter" -f -c "$TMP/root.conf" -u "$(getent passwd 0 | cut -d: -f1)"

fault_setup
check_equal "crmilter runs as $CRM_USER" "$(id -u "$CRM_USER") $(id -u "$CRM_USER")" \
	"$(awk '/^Uid:/ {print $2, $3}' "/proc/$CRM_PID/status")"

# ---- file owners and modes (files made while the store is locked stay in new/) ----
store_lock held
send modes 5 --clients 1 > /dev/null
bad=$(find "$SPOOL_DIR" "$STORE_DIR" -mindepth 1 \( ! -user "$CRM_USER" -o -perm /0027 \) -printf '%m %u %p\n')
n_spool=$(find "$SPOOL_DIR/new" -type f | wc -l)
if [ -z "$bad" ] && [ "$n_spool" -eq 5 ] && [ -s "$DB" ]; then
	ok "spool files ($n_spool), spool folders, store and its -wal/-shm: owned by $CRM_USER, no access for others, no write for the group"
else
	notok "spool and store files owned by $CRM_USER with modes 0600/0640/0750 ($n_spool spooled)"
	echo "$bad" | head -10 | sed 's/^/# /'
fi
check_equal "the store file is 0640" 640 "$(stat -c %a "$DB")"
check_equal "spool files are 0640" 640 "$(stat -c %a "$(find "$SPOOL_DIR/new" -type f | head -1)")"
store_unlock held
kill -HUP "$CRM_PID"
wait_spool_empty 30

# ---- the viewer is read-only at the SQLite level ----
# crmview tries a write through its own handle at start and refuses to run
# when it succeeds; a request makes a worker open its handle, whose file
# descriptor on the store must be O_RDONLY (flags in /proc/PID/fdinfo)
mkdir -p "$TMP/view"
chown "$CRM_USER" "$TMP/view"
{ cat "$CONF"; echo "ViewerAuth proxy"; echo "ViewerAccessLog $TMP/view/access.log"; } > "$TMP/view.conf"
"$CRM_BUILD/crmview" -c "$TMP/view.conf" -l 127.0.0.1:0 > "$TMP/view.out" 2>&1 &
view_pid=$!
wait_for 10 grep -q 'listening on' "$TMP/view.out"
check_grep "crmview starts on the live store (the write it tries through its handle is refused)" \
	'listening on .*read-only' "$TMP/view.out"
view_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/view.out" | head -1)
curl -s -o /dev/null -H 'X-Remote-User: alice@example.com' "$view_url/accounts"
store_fd_flags() {	# the open flags (octal) of each of crmview's descriptors on the store file
	for fd in /proc/"$view_pid"/fd/*; do
		[ "$(readlink "$fd")" = "$DB" ] && awk '/^flags:/ {print $2}' "/proc/$view_pid/fdinfo/${fd##*/}"
	done
}
flags=$(store_fd_flags | tr "\n" " " | sed "s/ $//")
if [ -n "$flags" ] && ! for f in $flags; do [ $((0$f & 3)) -eq 0 ] || echo rw; done | grep -q rw; then
	ok "crmview's handle holds the store file open read-only (flags $flags)"
else
	notok "crmview's handle holds the store file open read-only (flags: ${flags:-no descriptor on $DB})"
	sed 's/^/# /' "$TMP/view.out" | head -10
fi
kill "$view_pid" 2> /dev/null
wait "$view_pid" 2> /dev/null

# ---- hostile values ----
python3 - "$SMTP" > "$TMP/evil.out" 2>&1 <<'PY'
import smtplib, sys
evil_subject = "'; DROP TABLE messages; -- $(touch /tmp/crm-pwned) `touch /tmp/crm-pwned` <script>alert(1)</script> \x1b[31mred\x1b[0m"
long_value = "x" * 20000
body = (b"Robert'); DROP TABLE messages;--\r\n"
        b"$(rm -rf /) && `id` | cat /etc/passwd\r\n"
        b"<img src=x onerror=alert(1)><script>document.cookie</script>\r\n"
        b"NUL here:\x00:end\r\n"
        b"bad utf-8: \xff\xfe\xc3\x28 \xed\xa0\x80\r\n"
        b"escape: \x1b]0;title\x07 \x1b[2J\r\n"
        + b"y" * 50000 + b"\r\n")
msg = (b"From: \"<b>Mallory</b>; DROP TABLE contacts\" <mallory@evil.test>\r\n"
       b"To: alice@example.com\r\n"
       b"Subject: " + evil_subject.encode() + b"\r\n"
       b"Message-ID: <evil-1'\";--@evil.test>\r\n"
       b"X-Long: " + long_value.encode() + b"\r\n"
       b"X-Bad-UTF8: \xff\xfe\xc3\x28\r\n"
       b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body)
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60) as s:
    s.sendmail("mallory@evil.test", ["alice@example.com"], msg)
print("sent")
PY
check_grep "Postfix accepts the hostile message" '^sent$' "$TMP/evil.out"
check "Postfix delivers it" pf_wait_empty "$PF" 60
evil_stored() { test "$(q "select count(*) from messages where msgid like 'evil-1%'")" = 1; }
check "crmilter stores it" wait_for 30 evil_stored
check "no shell ran anything" test ! -e /tmp/crm-pwned
check_equal "the messages and contacts tables are still there" "contacts messages" \
	"$(q "select name from sqlite_master where type = 'table' and name in ('messages', 'contacts') order by name" | tr '\n' ' ' | sed 's/ $//')"
check "the subject is stored as text, SQL, shell and HTML included" \
	test -n "$(q "select 1 from messages where msgid like 'evil-1%' and subject like '%DROP TABLE messages; -- \$(touch /tmp/crm-pwned) %<script>alert(1)</script>%'")"
check "the quote in the Message-ID is kept as data" \
	test -n "$(q "select 1 from messages where msgid = 'evil-1''\";--@evil.test'")"
tid=$(q "select thread_id from messages where msgid like 'evil-1%'")
"$CRMCTL" -c "$CONF" show thread "$tid" > "$TMP/show.out" 2>&1
check "crmctl show prints the hostile thread, subject and body" \
	grep -q "DROP TABLE messages; -- \$(touch /tmp/crm-pwned)" "$TMP/show.out"
check "... with no raw terminal escape, NUL or other control byte" \
	python3 -c "import sys; b=open('$TMP/show.out','rb').read(); sys.exit(1 if any(c < 32 and c not in (9, 10) or c == 127 for c in b) else 0)"
check "... as valid UTF-8" python3 -c "open('$TMP/show.out','rb').read().decode('utf-8')"
