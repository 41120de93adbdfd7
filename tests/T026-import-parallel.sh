#!/usr/bin/env bash
# T026-import-parallel.sh - crmctl import parses (and, once the store has a
# compression dictionary, compresses raw sources) on the other cores while
# one thread writes; the store comes out the same as with one core: the
# same messages, threads, contacts and links (crmctl export), and the same
# compressed raw frames with the same dictionary, byte for byte.  One core
# is had with taskset, which crmctl honours (its affinity, not the machine's
# count).  A synthetic corpus of 1,500 messages (bench/gen): the
# dictionary is trained from its first batch, and the writing thread
# parses too while it waits (ingest/ahead.c).
. "$(dirname "$0")/test-lib.sh"
if ! command -v taskset > /dev/null || [ "$(nproc)" -lt 2 ]; then
	skip "parallel import against one core" "needs taskset and two cores"
	exit 0
fi
python3 "$CRM_TOP/bench/gen" --count 1500 --seed 7 --out "$TMP/md" > /dev/null
for run in one many; do
	write_conf "$TMP/$run.conf"
	sed -i "s#^Database .*#Database $TMP/$run.db#" "$TMP/$run.conf"
done
taskset -c 0 "$CRMCTL" -c "$TMP/one.conf" import "$TMP/md" > "$TMP/one.out" 2>&1
check_equal "import on one core exits 0" 0 $?
"$CRMCTL" -c "$TMP/many.conf" import "$TMP/md" > "$TMP/many.out" 2>&1
check_equal "import on every core exits 0" 0 $?
check_grep "... and imports every message" "imported 1500" "$TMP/many.out"
q() { sqlite3 -readonly "$TMP/$1.db" "$2"; }
check_equal "both stores trained one dictionary" "1|1" \
	"$(q one "select count(*) from zdicts")|$(q many "select count(*) from zdicts")"
check_equal "... the same one" "$(q one "select hex(dict) from zdicts")" \
	"$(q many "select hex(dict) from zdicts")"
check_equal "every raw frame is the same, made with the same dictionary" \
	"$(q one "select md5sum from (select group_concat(message_id || ':' || coalesce(dict_id, 0) || ':' || hex(data), ',') md5sum from (select * from raw order by message_id))" | sha256sum)" \
	"$(q many "select md5sum from (select group_concat(message_id || ':' || coalesce(dict_id, 0) || ':' || hex(data), ',') md5sum from (select * from raw order by message_id))" | sha256sum)"
check_equal "... and the frames after the training use it" "$(q one "select count(*) from raw where dict_id is not null")" \
	"$(q many "select count(*) from raw where dict_id is not null")"
"$CRMCTL" -c "$TMP/one.conf" export --format jsonl -o "$TMP/one.jsonl" > /dev/null 2>&1
"$CRMCTL" -c "$TMP/many.conf" export --format jsonl -o "$TMP/many.jsonl" > /dev/null 2>&1
check "the exports are not empty" test -s "$TMP/one.jsonl"
check "the exports are byte-identical" cmp -s "$TMP/one.jsonl" "$TMP/many.jsonl"
exit 0
