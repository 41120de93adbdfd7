#!/usr/bin/env bash
# T430-retention.sh - Retention and crmctl purge, hold, release, holds on a
# store built from tests/corpora/mail: the dry run changes nothing; purge
# deletes the mail older than Retention except threads under a legal hold
# (held themselves or through their account) and leaves no trace of it in
# the file; holds are audited; a bad Retention is refused; a version 2 store
# is migrated; crmilter runs the purge by itself
. "$(dirname "$0")/test-lib.sh"

if ! command -v sqlite3 > /dev/null; then
	skip "retention" "needs sqlite3"
	exit 0
fi
write_conf "$TMP/c.conf" Retention 52w
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }
DB=$TMP/store.db
q() { sqlite3 "$DB" "$@"; }
bytes() {
	cat "$DB" "$DB-wal" "$DB-shm" 2> /dev/null | grep -a -i -c -F -- "$1"
}

cp -r "$CORPORA/mail" "$TMP/mail"
find "$TMP/mail" -type f -exec touch -d '2025-06-30 12:00:00 UTC' {} +
crm import "$TMP/mail" > /dev/null

# configuration
write_conf "$TMP/bad.conf" Retention 12x
"$CRMCTL" -c "$TMP/bad.conf" stats > /dev/null 2> "$TMP/err"
check_equal "a bad Retention is a configuration error (exit 2)" 2 $?
check_grep "... naming file and line" "bad.conf:4: expected forever, or days, weeks or years" "$TMP/err"
write_conf "$TMP/forever.conf"
check_equal "without Retention nothing is purged" "Retention is forever: nothing to purge" \
	"$("$CRMCTL" -c "$TMP/forever.conf" purge)"

# 52 weeks = 364 days before 2026-03-01: mail dated before 2025-03-02
CUT=$(date -u -d '2026-03-01 - 364 days' +%s)
q .dump > "$TMP/before.sql"
check_output "purge --dry-run says what would go" "$EXPECTED/T430-purge-dry.txt" \
	crm purge --dry-run --as-of 2026-03-01
check "--dry-run changes nothing" cmp -s "$TMP/before.sql" <(q .dump)

# holds: thread 1 itself, and rosteh.ru's threads through its account
check_equal "hold a thread" "thread 1 is on hold" "$(crm hold 1)"
check_equal "hold an account" "account rosteh.ru is on hold" "$(crm hold rosteh.ru)"
crm hold 1 > /dev/null 2> "$TMP/err"
check_equal "holding twice is refused (exit 2)" 2 $?
check_grep "... saying so" "thread 1 is already on hold" "$TMP/err"
crm hold 999 > /dev/null 2> "$TMP/err"
check_equal "an unknown thread cannot be held" 2 $?
crm holds > "$TMP/holds"
check_equal "holds lists both, with what they cover, since when and by whom" \
	"thread 1 1 thread | $(id -un) | Q3 order forecast;account rosteh.ru 3 threads | $(id -un) | rosteh.ru" \
	"$(sed -E 's/ +20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z  / | /; s/\| ([^ ]+)  /| \1 | /; s/ +/ /g' "$TMP/holds" | paste -sd';')"

HELD=$(q "SELECT count(*) FROM messages WHERE date < $CUT AND thread_id IN
	(SELECT thread_id FROM holds WHERE thread_id IS NOT NULL UNION SELECT l.thread_id FROM links l
	 JOIN holds h ON h.account_id = l.account_id)")
GOING=$(q "SELECT count(*) FROM messages WHERE date < $CUT")
GOING=$((GOING - HELD))
check "the scenario has mail to purge and mail held" test "$GOING" -gt 0 -a "$HELD" -gt 0
# a message that goes (in a thread that goes): its Message-ID must leave the file
GONE_ID=$(q "SELECT msgid FROM messages m WHERE date < $CUT AND thread_id NOT IN (SELECT thread_id FROM
	holds WHERE thread_id IS NOT NULL UNION SELECT l.thread_id FROM links l JOIN holds h ON
	h.account_id = l.account_id) AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.thread_id =
	m.thread_id AND o.date >= $CUT) ORDER BY date LIMIT 1")
q "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
check "before: the file holds <$GONE_ID>" test "$(bytes "$GONE_ID")" -gt 0

check_output "purge deletes the old mail outside held threads" "$EXPECTED/T430-purge.txt" \
	crm purge --as-of 2026-03-01
check_equal "what is left before the cutoff is exactly the held mail" "$HELD" \
	"$(q "SELECT count(*) FROM messages WHERE date < $CUT")"
check_equal "the held threads are whole" "6" "$(q "SELECT messages FROM threads WHERE id = 1")"
check_equal "no raw source, participant or index row is left without its message" "0|0|0" \
	"$(q "SELECT (SELECT count(*) FROM raw WHERE message_id NOT IN (SELECT id FROM messages)),
	   (SELECT count(*) FROM participants WHERE message_id NOT IN (SELECT id FROM messages)),
	   (SELECT count(*) FROM attachments WHERE message_id NOT IN (SELECT id FROM messages))")"
check_equal "no byte of a purged message's Message-ID is left in the file" 0 "$(bytes "$GONE_ID")"
check_equal "the database is sound" "ok" "$(q "PRAGMA integrity_check")"
check "the full-text index is sound" q "INSERT INTO fts (fts) VALUES ('integrity-check')"
check_equal "a second purge finds nothing more" "deleted 0 messages and 0 threads; $HELD messages kept on hold" \
	"$(crm purge --as-of 2026-03-01 | tail -1)"

check_equal "release a thread" "thread 1 released" "$(crm release 1)"
crm release 1 > /dev/null 2> "$TMP/err"
check_equal "releasing twice is refused" 2 $?
check_equal "every hold, release and purge is audited; dry runs are not" \
	"hold|thread 1,hold|account rosteh.ru,purge|,purge|,release|thread 1" \
	"$(q "SELECT group_concat(action || '|' || CASE WHEN action = 'purge' THEN '' ELSE detail END)
	   FROM (SELECT action, detail FROM audit ORDER BY id)")"
check_grep "the purge audit says how much and until when" \
	"^purge|purged $GOING messages and [0-9]* threads* dated before 2025-03-02T[0-9:]*Z; $HELD kept on hold$" \
	<(q "SELECT action, detail FROM audit WHERE action = 'purge' ORDER BY id LIMIT 1")
crm purge --as-of 2026-03-01 --json > "$TMP/json"
check_grep "released, thread 1's six messages go at the next purge (--json)" '"messages": 6,' "$TMP/json"

# a hold follows its thread when a late parent merges it into another
write_conf "$TMP/merge.conf"
sed -i "s#^Database .*#Database $TMP/merge.db#" "$TMP/merge.conf"
mkdir "$TMP/merge"
cp "$TMP/mail/"01[567]-* "$TMP/merge/"
"$CRMCTL" -c "$TMP/merge.conf" import "$TMP/merge" > /dev/null
CHILD="CWLP265MB50127D6C5B4A3F21@CWLP265MB5012.GBRP265.PROD.OUTLOOK.COM"
tid() { sqlite3 "$TMP/merge.db" "SELECT thread_id FROM messages WHERE msgid = '$CHILD'"; }
BEFORE=$(tid)
"$CRMCTL" -c "$TMP/merge.conf" hold "$BEFORE" > /dev/null
check_equal "before the merge the early child is a thread of its own" 2 \
	"$(sqlite3 "$TMP/merge.db" "SELECT count(*) FROM threads WHERE messages > 0")"
cp "$TMP/mail/"030-* "$TMP/merge/"
"$CRMCTL" -c "$TMP/merge.conf" import "$TMP/merge" > /dev/null
check "the late parent merged the threads" test "$(tid)" != "$BEFORE"
check_equal "the hold moved to the merged thread" "$(tid)" \
	"$(sqlite3 "$TMP/merge.db" "SELECT group_concat(thread_id) FROM holds")"
check_folds "after the merge each record's status figures equal its links'" "$TMP/merge.db"

# a store of schema version 2 is migrated, the tables come with it
V8_COLS="threads:last_in threads:last_out threads:wait_us threads:wait_them links:last_in
	links:last_out links:wait_us links:wait_them"
for t in accounts contacts deals; do
	for c in shown_n shown_last shown_li shown_lo shown_wu shown_wt; do V8_COLS="$V8_COLS $t:$c"; done
done
q "DROP TRIGGER thread_people_follow; DROP TABLE thread_people; DROP INDEX threads_hidden;
   $(for k in account contact deal; do for e in insert delete update; do
	echo "DROP TRIGGER links_fold_${k}_$e;"; done; done)"
q "DROP TABLE holds; DROP TABLE forgotten; DROP TRIGGER links_follow_thread;
   DROP TRIGGER links_take_thread; DROP TRIGGER links_move_thread; DROP INDEX links_account_time;
   DROP INDEX links_contact_time; DROP INDEX links_deal_time; DROP INDEX IF EXISTS threads_unassigned;
   ALTER TABLE links DROP COLUMN last_date; ALTER TABLE links DROP COLUMN shown;
   DROP INDEX message_sources_arrival; DROP INDEX messages_skipped;
   ALTER TABLE threads DROP COLUMN attachments;
   DROP INDEX messages_subject_key; ALTER TABLE messages DROP COLUMN subject_key; DROP TABLE secrets;
   ALTER TABLE messages DROP COLUMN has_refs;
   $(for tc in $V8_COLS; do echo "ALTER TABLE ${tc%%:*} DROP COLUMN ${tc#*:};"; done)
   PRAGMA user_version = 2"
crm purge --dry-run > /dev/null
check_equal "a version 2 store opened read-write is migrated to 8" 8 "$(q "PRAGMA user_version")"
check_equal "... with the forgotten and holds tables" "forgotten|holds" \
	"$(q "SELECT group_concat(name, '|') FROM (SELECT name FROM sqlite_master WHERE name IN ('forgotten', 'holds') ORDER BY name)")"

# crmilter purges by itself once a day (the first time at start)
. "$CRM_TOP/tests/milter/postfix.sh"
if [ ! -x "$CRM_BUILD/crmilter" ] || [ "$(id -u)" -ne 0 ]; then
	skip "crmilter runs the daily purge" "needs crmilter and root"
	exit 0
fi
trap 'crm_stop KILL; rm -rf "$TMP"' EXIT
crm_user
chmod 711 "$TMP"
mkdir -p "$TMP/run" "$TMP/store"
crm import "$TMP/mail" > /dev/null
q "DELETE FROM audit"
mv "$DB" "$TMP/store/crm.db"
chown -R "$CRM_USER" "$TMP/run" "$TMP/store"
write_conf "$TMP/m.conf" SpoolDirectory "$TMP/spool" PidFile "$TMP/run/crmilter.pid" Retention 30d \
	Socket "unix:$TMP/run/s"
sed -i "s#^Database .*#Database $TMP/store/crm.db#" "$TMP/m.conf"
crm_start "$TMP/m.conf" "$TMP/milter.log"
for _ in $(seq 100); do
	grep -q "retention purge" "$TMP/milter.log" && break	# logged once it is done
	sleep 0.2
done
check_equal "crmilter purged on its own, audited as crmilter" "crmilter|purge" \
	"$(sqlite3 "$TMP/store/crm.db" "SELECT who, action FROM audit")"
check_equal "... every message older than 30 days is gone" 0 \
	"$(sqlite3 "$TMP/store/crm.db" "SELECT count(*) FROM messages WHERE date < strftime('%s', 'now') - 30 * 86400")"
check_grep "... and it logged what it did" "retention purge (Retention 30d): [0-9]* messages" "$TMP/milter.log"
check_folds "... and each record's status figures still equal its links'" "$TMP/store/crm.db"
crm_stop
