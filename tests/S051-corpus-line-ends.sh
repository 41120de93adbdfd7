#!/usr/bin/env bash
# S051-corpus-line-ends.sh - real mail gives the same records whatever its line ends
#
# Every message file of ../shared/corpus (gmime, mime4j, stalwart-mail-parser,
# the sisimai bounces) is written three times, with LF, CRLF and CR-only line
# ends, and each copy imported into its own store; usrp-users-2020 (an mbox)
# is imported as LF and as CRLF.  The exported records must be the same, the
# raw size and the source aside; rule ids are left out, being the store's
# own.  Earlier versions differed on 35 records of the first set (warning
# offsets, and one body).  Skips when the corpus is not present.
. "$(dirname "$0")/test-lib.sh"

if [ ! -d "$SHARED_CORPUS" ]; then
	skip "corpus line ends" "no $SHARED_CORPUS"
	exit 0
fi

cat > "$TMP/compare.py" <<'PY'
# compare.py A.jsonl B.jsonl - prints "N differ" and the first differences
import collections, json, sys

DROP = ("rule", "capture_rule", "size", "raw", "sources", "id", "thread", "parent")

def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in DROP}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o

def load(path):
    """records by "file#n": the n-th message of a file (by offset), the form's folder dropped"""
    per_file = collections.defaultdict(list)
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        if r.get("type") != "message":
            continue
        for s in r["sources"]:
            origin, _, off = s["origin"].rpartition(":") if s["origin"].count(":") else (s["origin"], "", "0")
            per_file[origin.split("/", 1)[1]].append((int(off or 0), strip(r)))
    return {"%s#%d" % (f, i): r for f, v in per_file.items()
            for i, (_, r) in enumerate(sorted(v, key=lambda x: x[0]))}

a, b = load(sys.argv[1]), load(sys.argv[2])
keys = sorted(set(a) | set(b))
diff = [k for k in keys if a.get(k) != b.get(k)]
print("%d of %d differ" % (len(diff), len(keys)))
for k in diff[:5]:
    ra, rb = a.get(k) or {}, b.get(k) or {}
    for f in sorted(set(ra) | set(rb)):
        if ra.get(f) != rb.get(f):
            print("# %s %s: %r | %r" % (k, f, str(ra.get(f))[:160], str(rb.get(f))[:160]))
PY

# the three forms of every message file; files with a lone CR are left out
# (their CR-only copy cannot be told from their line ends)
python3 - "$SHARED_CORPUS" "$TMP" <<'PY' > "$TMP/made"
import os, sys
src, out = sys.argv[1], sys.argv[2]
n = left = 0
for folder in ("gmime", "mime4j", "stalwart-mail-parser", "sisimai-bounces/maildir-lf"):
    for root, dirs, files in os.walk(os.path.join(src, folder)):
        for f in files:
            if f.endswith((".json", ".xml", ".tsv", ".md")) or "_decoded_" in f or f == "LICENSE":
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)
            data = open(path, "rb").read().replace(b"\r\n", b"\n")
            if b"\r" in data:
                left += 1
                continue
            for form, eol in (("lf", b"\n"), ("crlf", b"\r\n"), ("cr", b"\r")):
                os.makedirs(os.path.join(out, form, os.path.dirname(rel)), exist_ok=True)
                open(os.path.join(out, form, rel), "wb").write(data.replace(b"\n", eol))
            n += 1
print(n, left)
PY
read -r files left < "$TMP/made"
ok "$files corpus files written in three forms ($left with a lone CR left out)"

# import_form FORM DIR - import DIR into FORM's own store and export it to FORM.jsonl
import_form() {
	write_conf "$TMP/$1.conf"
	sed -i "s|$TMP/store.db|$TMP/$1.db|" "$TMP/$1.conf"
	( cd "$TMP" && "$CRMCTL" -c "$TMP/$1.conf" import "$2" > "$TMP/$1.out" 2> "$TMP/$1.err" )
	rc=$?
	[ $rc -le 1 ] || { notok "$1 import exited $rc"; tail -5 "$TMP/$1.err" | sed 's/^/# /'; }
	"$CRMCTL" -c "$TMP/$1.conf" export --format jsonl > "$TMP/$1.jsonl" 2> /dev/null
}

# same NAME A B - the records of stores A and B are the same
same() {
	python3 "$TMP/compare.py" "$TMP/$2.jsonl" "$TMP/$3.jsonl" > "$TMP/cmp.out"
	if head -1 "$TMP/cmp.out" | grep -q '^0 of [1-9]'; then
		ok "$1 ($(head -1 "$TMP/cmp.out"))"
	else
		notok "$1 ($(head -1 "$TMP/cmp.out"))"
		tail -n +2 "$TMP/cmp.out"
	fi
}

for form in lf crlf cr; do
	import_form "$form" "$form"
done
check_equal "the three forms import alike" "$(cat "$TMP/lf.out")" "$(cat "$TMP/crlf.out")"
same "CRLF copies give the LF records" lf crlf
same "CR-only copies give the LF records" lf cr

mbox=$SHARED_CORPUS/usrp-users-2020/usrp-users-2020.mbox.xz
if [ -f "$mbox" ]; then
	mkdir -p "$TMP/mlf" "$TMP/mcrlf"
	xz -dc "$mbox" > "$TMP/mlf/usrp.mbox"
	python3 -c 'import sys; d = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n"); open(sys.argv[2], "wb").write(d.replace(b"\n", b"\r\n"))' \
		"$TMP/mlf/usrp.mbox" "$TMP/mcrlf/usrp.mbox"
	import_form mlf mlf
	import_form mcrlf mcrlf
	check_grep "usrp-users-2020: all 2,181 posts imported" "imported 2181," "$TMP/mlf.out"
	same "usrp-users-2020 as a CRLF mbox gives the LF records" mlf mcrlf
else
	skip "usrp-users-2020 line ends" "no $mbox"
fi
exit 0
