#!/usr/bin/env bash
# T027-import-dictionary.sh - a store without a compression dictionary
# trains it from the first batch of an import (storage/raw.c,
# store_zdict_offer), before that batch is compressed, instead of after
# 1,000 stored messages: every raw frame of a 250-file import uses it;
# fewer than 100 messages make none; the next import's first batch makes
# it, and the messages stored before it are recompressed with it; a store
# that keeps headers only is trained as before.  A synthetic corpus
# (bench/gen), imported as a folder of files (read in name order).
. "$(dirname "$0")/test-lib.sh"
python3 "$CRM_TOP/bench/gen" --count 250 --seed 3 --out "$TMP/md" > /dev/null
mkdir "$TMP/all" "$TMP/part1" "$TMP/part2"
mv "$TMP"/md/cur/* "$TMP"/md/new/* "$TMP/all/"
n=0
for f in $(ls "$TMP/all" | LC_ALL=C sort); do
	n=$((n + 1))
	if [ $n -le 60 ]; then cp "$TMP/all/$f" "$TMP/part1/"; else cp "$TMP/all/$f" "$TMP/part2/"; fi
done
store() {	# NAME [KEY VALUE]...: a configuration of its own
	local name=$1; shift
	write_conf "$TMP/$name.conf" "$@"
	sed -i "s#^Database .*#Database $TMP/$name.db#" "$TMP/$name.conf"
}
imp() { "$CRMCTL" -c "$TMP/$1.conf" import -q "$2" > "$TMP/$1.out" 2>&1; }
q() { sqlite3 -readonly "$TMP/$1.db" "$2"; }
FRAMES="SELECT (SELECT count(*) FROM zdicts), (SELECT count(*) FROM raw WHERE dict_id IS NULL),
	(SELECT count(*) FROM raw WHERE dict_id IS NOT NULL)"

store all
imp all "$TMP/all"
check_equal "an import of 250 files exits 0" 0 $?
N=$(q all "SELECT count(*) FROM raw")
check "... storing most of them (the rest are copies)" test "$N" -gt 150
check_equal "... trains one dictionary, and every raw frame is made with it" "1|0|$N" \
	"$(q all "$FRAMES")"
check "... a real one" test "$(q all "SELECT length(dict) FROM zdicts")" -gt 1000

store split
imp split "$TMP/part1"
N1=$(q split "SELECT count(*) FROM raw")
check_equal "60 files make no dictionary: too few to train" "0|$N1|0" "$(q split "$FRAMES")"
imp split "$TMP/part2"
check_equal "the next import trains one and recompresses the first $N1 with it" "1|0|$N" \
	"$(q split "$FRAMES")"
store second
imp second "$TMP/part2"
check_equal "... trained from that import's first batch, not from what the store held" \
	"$(q second "SELECT hex(dict) FROM zdicts")" "$(q split "SELECT hex(dict) FROM zdicts")"
"$CRMCTL" -c "$TMP/split.conf" export --format mbox -o "$TMP/split.mbox" > /dev/null 2>&1
"$CRMCTL" -c "$TMP/all.conf" export --format mbox -o "$TMP/all.mbox" > /dev/null 2>&1
check "... and every raw source reads back as from the store made in one go" \
	cmp "$TMP/split.mbox" "$TMP/all.mbox"
check "... which is not empty" test "$(grep -c '^From ' "$TMP/all.mbox")" -eq "$N"
check_equal "... the file sound" ok "$(q split "PRAGMA integrity_check")"

store headers RawStorage headers
imp headers "$TMP/all"
check_equal "a store that keeps headers only is not trained from an import's first batch" \
	"0|$N|0" "$(q headers "$FRAMES")"
exit 0
