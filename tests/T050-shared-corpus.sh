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

# every file is accounted for: stored (a source of a message), or named
# with a reason on stderr (a failure or a skipped entry)
"$CRMCTL" -c "$TMP/c.conf" export --format jsonl > "$TMP/all.jsonl" 2> /dev/null
for folder in gmime mime4j stalwart-mail-parser sisimai-bounces; do
	dir=$SHARED_CORPUS/$folder
	[ -d "$dir" ] || continue
	missing=$(find "$dir" -type f | python3 -c '
import json, sys

def path_of(where):
    """PATH of "PATH" or "PATH:OFFSET" (an mbox message)"""
    head, _, tail = where.rpartition(":")
    return head if head and tail.isdigit() else where

seen = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "message":
        seen.update(path_of(s["origin"]) for s in r["sources"])
for line in open(sys.argv[2], errors="replace"):
    if line.startswith("crmctl: "):
        seen.add(path_of(line[8:].split(": ", 1)[0]))
files = [l.rstrip("\n") for l in sys.stdin]
left = [f for f in files if f not in seen]
print(len(files), len(left))
for f in left[:5]:
    print("# not accounted for:", f, file=sys.stderr)
' "$TMP/all.jsonl" "$TMP/$folder.err")
	check_equal "$folder: each of its $(echo "$missing" | cut -d" " -f1) files is stored or named" "0" "${missing#* }"
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
