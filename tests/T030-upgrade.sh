#!/usr/bin/env bash
# T030-upgrade.sh - a store made by the first schema version (a fixture:
# tests/fixtures/store-v1.sql) is migrated by this build and keeps its data:
# the same threads, contacts and accounts as the old crmctl printed, its raw
# sources, and the columns and tables later versions added
. "$(dirname "$0")/test-lib.sh"
command -v sqlite3 > /dev/null || { skip "upgrade from schema 1" "needs sqlite3"; exit 0; }

write_conf "$TMP/c.conf"
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }
q() { sqlite3 -readonly "$TMP/store.db" "$1"; }
sqlite3 "$TMP/store.db" < "$CRM_TOP/tests/fixtures/store-v1.sql"
check_equal "the fixture is a version 1 store" 1 "$(q "PRAGMA user_version")"

crm stats > "$TMP/out" 2>&1
check_equal "a read-only command refuses an old store" 3 $?
check_grep "... and says how to migrate it" "schema version 1, needs [0-9]*; open it read-write once" \
	"$TMP/out"
mkdir "$TMP/empty"
check "a read-write command (an empty import) migrates it" crm import "$TMP/empty"
check_equal "the store is at this build's schema version" \
	"$(crm stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["schema_version"])')" \
	"$(q "PRAGMA user_version")"
check "a second open migrates nothing and reads" crm stats
check_equal "messages, threads, contacts, accounts and raw bytes are kept" "44 27 12 6 50944" \
	"$(crm stats | awk '$1 ~ /^(messages|threads|contacts|accounts|raw_bytes)$/ {printf "%s%s", s, $2; s=" "}')"
for what in threads contacts accounts; do
	check_output "$what are what the first version showed" "$EXPECTED/T030-v1-$what.txt" crm "$what"
done
check_equal "every link carries its thread's date (schema 4)" 0 \
	"$(q "SELECT count(*) FROM links l JOIN threads t ON t.id = l.thread_id WHERE l.last_date <> t.last_date")"
check_equal "the monitoring indexes are built (schema 5)" "message_sources_arrival messages_skipped" \
	"$(q "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE name IN
	      ('message_sources_arrival', 'messages_skipped') ORDER BY name)")"
# schema 6: the subject keys and reference flags of the stored mail are
# those a fresh import of the same files gives (tests/corpora/mail)
write_conf "$TMP/fresh.conf"
sed -i "s#^Database .*#Database $TMP/fresh.db#" "$TMP/fresh.conf"
"$CRMCTL" -c "$TMP/fresh.conf" import "$CORPORA/mail" > /dev/null 2>&1
keys() { sqlite3 -readonly "$1" "SELECT msgid || '|' || coalesce(subject_key, '-') || '|' || has_refs
				   FROM messages WHERE thread_id IS NOT NULL ORDER BY msgid"; }
keys "$TMP/fresh.db" > "$TMP/fresh.keys"
keys "$TMP/store.db" | grep -F -f <(cut -d'|' -f1 "$TMP/fresh.keys" | sed 's/$/|/') > "$TMP/old.keys"
check "subject keys and reference flags are filled as a fresh import fills them (schema 6)" \
	diff -u "$TMP/fresh.keys" "$TMP/old.keys"
check_equal "... for the 38 of the 44 messages a fresh import logs" 38 "$(wc -l < "$TMP/old.keys")"
crm export --format mbox -o "$TMP/all.mbox" 2> /dev/null
check_equal "the raw sources export: one mbox message per stored message" 44 \
	"$(grep -c '^From ' "$TMP/all.mbox")"
check "forget works on the migrated store (dry run)" crm forget dave@mail.acme.com --dry-run
