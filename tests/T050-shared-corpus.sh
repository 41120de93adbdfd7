#!/usr/bin/env bash
# T050-shared-corpus.sh - real-world mail from ../shared/corpus imports without a crash
#
# Every file of every corpus folder goes through crmctl import (under ASan in
# `make asan`).  Each input must be accounted for: imported, duplicate, or a
# named failure; crmctl must exit 0 or 1 (never a crash); and every bounce,
# DSN, ARF report and auto-reply in sisimai-bounces must be flagged as
# automated so that none of them makes a contact.  Skips when the corpus is
# not present.
. "$(dirname "$0")/test-lib.sh"

if [ ! -d "$SHARED_CORPUS" ]; then
	skip "shared corpus import" "no $SHARED_CORPUS"
	exit 0
fi

write_conf "$TMP/c.conf"
for folder in gmime mime4j stalwart-mail-parser sisimai-bounces; do
	dir=$SHARED_CORPUS/$folder
	[ -d "$dir" ] || { skip "$folder imports" "absent"; continue; }
	"$CRMCTL" -c "$TMP/c.conf" import "$dir" > "$TMP/$folder.out" 2> "$TMP/$folder.err"
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then
		ok "$folder imports without a crash (exit $rc: $(cat "$TMP/$folder.out"))"
	else
		notok "$folder import exited $rc"
		tail -20 "$TMP/$folder.err" | sed 's/^/# /'
	fi
	# every failure names its file and a reason
	bad=$(grep -v -E '^crmctl: [^:]+(:[0-9]+)?: .+' "$TMP/$folder.err" | head -5)
	check_equal "$folder: every failure names a file and a reason" "" "$bad"
done

# the sisimai bounces: each message is flagged bounce, auto-reply or bulk
dir=$SHARED_CORPUS/sisimai-bounces/maildir-lf
if [ -d "$dir" ]; then
	"$CRMCTL" -c "$TMP/c.conf" parse --json "$dir" > "$TMP/parsed.json" 2>/dev/null
	total=$(python3 -c '
import json,sys
dec=json.JSONDecoder(); s=open(sys.argv[1]).read(); i=0; n=0; auto=0; missed=[]
while True:
    while i < len(s) and s[i].isspace(): i+=1
    if i >= len(s): break
    o,i = dec.raw_decode(s,i); n+=1
    if set(o["flags"]) & {"bounce","auto-reply","bulk"}: auto+=1
    else: missed.append(o["subject"])
print(n, auto)
for m in missed[:10]: print("# missed:", m, file=sys.stderr)
' "$TMP/parsed.json")
	n=${total% *}; auto=${total#* }
	check_equal "every sisimai message is flagged automated ($auto of $n)" "$n" "$auto"
	contacts=$("$CRMCTL" -c "$TMP/c.conf" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["contacts"])')
	check_equal "no contact comes from bounces or other inbound mail" 0 "$contacts"
fi
