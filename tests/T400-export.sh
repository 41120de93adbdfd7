#!/usr/bin/env bash
# T400-export.sh - crmctl export: every format and filter over the fixture
# stores with exact expected output (tests/expected/export/), CSV that
# python's csv module reads, the mbox round trip into an empty store, the
# original bytes of every message, raw storage that keeps less, write
# errors, and memory that does not grow with the store
. "$(dirname "$0")/test-lib.sh"
EXP=$EXPECTED/export

# Debian's python3 starts in a tenth of the time of a shim in PATH
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || { skip "export" "needs python3"; exit 0; }

# ---- the fixture store: tests/corpora/mail as T010 makes it, imported by
# relative paths so that the sources' origins are the same on every run ----
cp -r "$CORPORA/mail" "$TMP/mail"
find "$TMP/mail" -type f -exec touch -d '2025-06-30 12:00:00 UTC' {} +
# the built-in rules: no RulesFile, and no rules file beside the configuration
# ($TMP/rules, its default, never exists here)
write_conf "$TMP/c.conf"
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }
(cd "$TMP" && crm import -q mail) || true

# x NAME ARGS... - run crm export ARGS, stdout to $TMP/NAME, stderr to $TMP/NAME.err
x() {
	name=$1; shift
	crm export "$@" > "$TMP/$name" 2> "$TMP/$name.err"
	echo $? > "$TMP/$name.rc"
}
# same NAME DESC - $TMP/NAME equals $EXP/NAME, and the export succeeded (the
# scenario's rules file, named by its absolute path, is "rules" in $EXP)
same() {
	if [ "$(cat "$TMP/$1.rc")" = 0 ] &&
		diff -u "$EXP/$1" <(sed "s#$TMP/scen.rules#rules#g" "$TMP/$1") > "$TMP/diff"; then
		ok "$2"
	else
		notok "$2 (exit $(cat "$TMP/$1.rc"))"
		sed 's/^/# /' "$TMP/diff" "$TMP/$1.err" | head -40
	fi
}

# ---- JSON and JSON Lines ----
x all.json --format json
same all.json "json: the whole store, exactly"
check_equal "json: the last line on stderr counts messages and threads" \
	"exported 44 messages, 22 threads" "$(tail -1 "$TMP/all.json.err")"
x all.jsonl --format jsonl
same all.jsonl "jsonl: the whole store, exactly"
# check_records FILE - the document parses, says crmilter-export 1, and holds
# as many records of each kind as its header counts
check_records() {
	"$PY" - "$1" <<'PY'
import json, sys
path = sys.argv[1]
if path.endswith('.jsonl'):
    lines = [json.loads(l) for l in open(path, encoding='utf-8')]
    head, recs = lines[0], lines[1:]
else:
    doc = json.load(open(path, encoding='utf-8'))
    head = doc
    recs = [r for s in ('rules', 'accounts', 'contacts', 'deals', 'threads', 'messages', 'links')
            for r in doc[s]]
assert head['type'] == 'export' and head['format'] == 'crmilter-export' and head['version'] == 1
seen = {}
for r in recs:
    seen[r['type'] + 's'] = seen.get(r['type'] + 's', 0) + 1
for k, n in head['counts'].items():
    if k == 'skipped':
        n2 = sum(1 for r in recs if r['type'] == 'message' and r['thread'] is None)
    else:
        n2 = seen.get(k, 0)
    assert n == n2, (k, n, n2)
PY
}
check "json: parses, and holds what its header counts" check_records "$TMP/all.json"
check "jsonl: every line parses, and the records are what the header counts" \
	check_records "$TMP/all.jsonl"
check_equal "json and jsonl carry the same records" "" "$("$PY" - "$TMP/all.json" "$TMP/all.jsonl" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
a = [json.dumps(r, sort_keys=True) for s in ('rules', 'accounts', 'contacts', 'deals', 'threads',
     'messages', 'links') for r in doc[s]]
lines = [json.loads(l) for l in open(sys.argv[2])]
b = [json.dumps(r, sort_keys=True) for r in lines[1:]]
if a != b: print("records differ")
PY
)"

# ---- filters: each picks threads (whole), dates pick messages ----
x account.jsonl --format jsonl --account acme.com
same account.jsonl "jsonl --account acme.com: its threads, contacts and links"
x contact.jsonl --format jsonl --contact 'Priya@Globex.co.uk'
same contact.jsonl "jsonl --contact (normalised): the contact's threads"
x thread.json --format json --thread 1
same thread.json "json --thread 1: one thread with all its messages"
x mailbox.jsonl --format jsonl --mailbox bob@example.com
same mailbox.jsonl "jsonl --mailbox: the threads the mailbox takes part in"
x dates.jsonl --format jsonl --since 2025-03-04 --until 2025-03-11
same dates.jsonl "jsonl --since/--until one day: the messages of that day and their threads"
x none.jsonl --format jsonl --account no-such.example
same none.jsonl "a filter that matches nothing gives an empty export"
check_equal "and says so in its last line" "exported 0 messages, 0 threads" \
	"$(tail -1 "$TMP/none.jsonl.err")"

# ---- CSV ----
x csv.out --format csv -o "$TMP/csv"
check_equal "csv: writes nothing on stdout, exits 0" "0:" "$(cat "$TMP/csv.out.rc"):$(cat "$TMP/csv.out")"
for f in rules accounts contacts deals threads messages participants attachments sources links; do
	check "csv: $f.csv exactly as expected" diff -u "$EXP/csv/$f.csv" "$TMP/csv/$f.csv"
done
# csv_check DIR JSONL - python's csv module reads every file of DIR, each with
# as many rows as JSONL has records, and writes back the same bytes (RFC 4180:
# CRLF, quotes only where needed); prints what is wrong
csv_check() {
	"$PY" - "$1" "$2" <<'PY'
import csv, io, json, sys
d = sys.argv[1]
lines = [json.loads(l) for l in open(sys.argv[2], encoding='utf-8')]
want = {}
for r in lines[1:]:
    want[r['type'] + 's'] = want.get(r['type'] + 's', 0) + 1
    if r['type'] == 'message':
        for k in ('participants', 'attachments', 'sources'):
            want[k] = want.get(k, 0) + len(r[k])
for name in ('rules', 'accounts', 'contacts', 'deals', 'threads', 'messages', 'participants',
             'attachments', 'sources', 'links'):
    rows = list(csv.reader(open(f'{d}/{name}.csv', newline='', encoding='utf-8'), strict=True))
    if len(rows) - 1 != want.get(name, 0):
        print(f'{name}: {len(rows) - 1} rows, want {want.get(name, 0)}')
    if any(len(r) != len(rows[0]) for r in rows):
        print(f'{name}: rows of different lengths')
    # RFC 4180 as python writes it: CRLF, quotes only where needed
    out = io.StringIO(newline='')
    csv.writer(out, lineterminator='\r\n').writerows(rows)
    if out.getvalue().encode('utf-8') != open(f'{d}/{name}.csv', 'rb').read():
        print(f'{name}: not the bytes python writes for the same rows')
PY
}
check_equal "csv: python's csv module reads every file, with the right row counts" "" \
	"$(csv_check "$TMP/csv" "$TMP/all.jsonl")"
check_equal "csv: the message bodies read back equal the json ones" "" \
	"$("$PY" - "$TMP/csv" "$TMP/all.jsonl" <<'PY'
import csv, json, sys
lines = [json.loads(l) for l in open(sys.argv[2], encoding='utf-8')]
bodies = {str(r['id']): r['body'] for r in lines if r['type'] == 'message'}
for row in csv.DictReader(open(sys.argv[1] + '/messages.csv', newline='', encoding='utf-8')):
    if row['body'] != bodies[row['id']]:
        print('message', row['id'])
PY
)"
check_fails "csv without -o is a usage error" crm export --format csv
check_equal "  with exit status 2" 2 "$(crm export --format csv > /dev/null 2>&1; echo $?)"

# ---- mbox ----
x all.mbox --format mbox
same all.mbox "mbox: every logged message, exactly"
check_equal "mbox: the last line on stderr" "exported 38 messages, 22 threads" \
	"$(tail -1 "$TMP/all.mbox.err")"
# split.py MBOX OUTDIR - split an mboxrd file, undo the quoting; prints the count
cat > "$TMP/split.py" <<'PY'
import os, re, sys
data = open(sys.argv[1], 'rb').read()
starts = [0] + [m.start() + 1 for m in re.finditer(rb'\nFrom ', data)] if data else []
os.makedirs(sys.argv[2], exist_ok=True)
for i, s in enumerate(starts):
    e = starts[i + 1] if i + 1 < len(starts) else len(data)
    chunk = data[s:e]
    assert chunk.startswith(b'From '), chunk[:40]
    msg = chunk[chunk.index(b'\n') + 1:]
    if i + 1 < len(starts):
        assert msg.endswith(b'\n\n'), 'no empty line before the next From'
        msg = msg[:-1]
    msg = re.sub(rb'(?m)^>(>*From )', rb'\1', msg)
    open(f'{sys.argv[2]}/{i:05d}', 'wb').write(msg)
print(len(starts))
PY
check_equal "mbox: 38 separator lines" 38 "$("$PY" "$TMP/split.py" "$TMP/all.mbox" "$TMP/split")"
check_equal "mbox: each message is byte for byte the fixture file it was imported from" "" \
	"$(cd "$TMP" && "$PY" - "$TMP/split" "$TMP/all.jsonl" <<'PY'
import json, os, sys
lines = [json.loads(l) for l in open(sys.argv[2], encoding='utf-8')]
msgs = [r for r in lines if r['type'] == 'message' and r['thread'] is not None]
files = sorted(os.listdir(sys.argv[1]))
if len(files) != len(msgs):
    print('count', len(files), len(msgs))
for f, m in zip(files, msgs):
    got = open(os.path.join(sys.argv[1], f), 'rb').read()
    if not any(open(s['origin'], 'rb').read() == got for s in m['sources']):
        print('differs:', m['message_id'])
PY
)"

# mboxrd quoting, on two messages of our own: From lines in the body (LF and
# CRLF), and a last line without a line end
mkdir -p "$TMP/q/mail"
printf 'From: Ann <ann@example.com>\nTo: bo@client.example\nSubject: quoting\nMessage-ID: <q1@example.com>\nDate: Mon, 3 Mar 2025 10:00:00 +0000\n\nFrom the desk of Ann\n>From a quote\n>>From deeper\nFrom\nFromage\n From indented\n' > "$TMP/q/mail/1.eml"
printf 'From: Ann <ann@example.com>\r\nTo: bo@client.example\r\nSubject: crlf\r\nMessage-ID: <q2@example.com>\r\nDate: Mon, 3 Mar 2025 11:00:00 +0000\r\n\r\nFrom here\r\nno line end' > "$TMP/q/mail/2.eml"
sed "s#^Database .*#Database $TMP/q/store.db#" "$TMP/c.conf" > "$TMP/q.conf"
"$CRMCTL" -c "$TMP/q.conf" import -q "$TMP/q/mail"
"$CRMCTL" -c "$TMP/q.conf" export --format mbox > "$TMP/q.mbox" 2> /dev/null
check_equal "mbox: '^>*From ' lines get one more '>', others stay" \
	">From the desk of Ann|>>From a quote|>>>From deeper|From|Fromage| From indented|>From here" \
	"$(grep -a -e 'From' "$TMP/q.mbox" | grep -v -e '^From ann@' -e '^From:' | tr -d '\r' | paste -sd '|')"
"$PY" "$TMP/split.py" "$TMP/q.mbox" "$TMP/qsplit" > /dev/null
check "mbox: unquoted, the message is its original again" cmp "$TMP/q/mail/1.eml" "$TMP/qsplit/00000"
check "mbox: a message without a last line end gets one (CRLF kept)" \
	cmp <(cat "$TMP/q/mail/2.eml"; printf '\n') "$TMP/qsplit/00001"
check_equal "mbox: the separator is 'From SENDER DATE' with the date in asctime form" \
	"From ann@example.com Mon Mar  3 10:00:00 2025" "$(head -1 "$TMP/q.mbox")"
if command -v sqlite3 > /dev/null; then
	# as if crmilter had stored them: the MTA's MAIL FROM, and the null sender
	sqlite3 "$TMP/q/store.db" "UPDATE message_sources SET mail_from = CASE message_id
		WHEN 1 THEN 'env@example.org' ELSE '' END"
	check_equal "mbox: the separator names the MTA's envelope sender; MAILER-DAEMON for <>" \
		"From env@example.org Mon Mar  3 10:00:00 2025|From MAILER-DAEMON Mon Mar  3 11:00:00 2025" \
		"$("$CRMCTL" -c "$TMP/q.conf" export --format mbox 2> /dev/null | grep -a '^From ' | paste -sd '|')"
else
	skip "mbox: the envelope sender in the separator" "needs sqlite3"
fi

# ---- the round trip: the mbox into an empty store gives the same store ----
mkdir "$TMP/rt"
sed "s#^Database .*#Database $TMP/rt/store.db#" "$TMP/c.conf" > "$TMP/rt.conf"
rt() { "$CRMCTL" -c "$TMP/rt.conf" "$@"; }
check_equal "round trip: the mbox imports without a failure" "imported 38, duplicates 0, failed 0" \
	"$(rt import "$TMP/all.mbox")"
for what in threads contacts accounts; do
	crm "$what" --json > "$TMP/a.$what"
	rt "$what" --json > "$TMP/b.$what"
	check "round trip: crmctl $what --json is the same" diff -u "$TMP/a.$what" "$TMP/b.$what"
done
# norm.py JSONL - the records without what an mbox cannot carry: skipped
# messages, sources, message row ids; rule ids as FILE:LINE:HASH
cat > "$TMP/norm.py" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')][1:]
rules = {r['id']: f"{r['file']}:{r['line']}:{r['hash']}" for r in lines if r['type'] == 'rule'}
def fix(v):
    if isinstance(v, dict):
        return {k: (rules.get(x, x) if k in ('rule', 'capture_rule') else fix(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [fix(x) for x in v]
    return v
for r in lines:
    if r['type'] == 'rule' or (r['type'] == 'message' and r['thread'] is None):
        continue
    if r['type'] == 'message':
        del r['sources'], r['id']
    print(json.dumps(fix(r), sort_keys=True, ensure_ascii=False))
PY
rt export --format jsonl > "$TMP/rt.jsonl" 2> /dev/null
"$PY" "$TMP/norm.py" "$TMP/all.jsonl" > "$TMP/a.norm"
"$PY" "$TMP/norm.py" "$TMP/rt.jsonl" > "$TMP/b.norm"
check "round trip: every message, thread, contact, account, deal and link is the same" \
	diff -u "$TMP/a.norm" "$TMP/b.norm"
check_equal "round trip: compared $(grep -c '"type": "message"' "$TMP/a.norm") messages" \
	38 "$(grep -c '"type": "message"' "$TMP/b.norm")"
rt export --format mbox > "$TMP/rt.mbox" 2> /dev/null
check "round trip: exporting the new store gives the same mbox" cmp "$TMP/all.mbox" "$TMP/rt.mbox"

# ---- the scenario store: rules, deals, visibility; the deal filter ----
SCEN=$CORPORA/scenario
cp -r "$SCEN/mail" "$TMP/scen"
cp "$SCEN/rules" "$TMP/scen.rules"
mkdir "$TMP/s"
{ sed -e "s#^Database .*#Database $TMP/s/store.db#" "$TMP/c.conf"; echo "RulesFile scen.rules"; } \
	> "$TMP/s.conf"
sc() { (cd "$TMP" && "$CRMCTL" -c "$TMP/s.conf" "$@"); }
sc deals import "$SCEN/deals.csv" > /dev/null
sc import -q scen
x() {
	name=$1; shift
	sc export "$@" > "$TMP/$name" 2> "$TMP/$name.err"
	echo $? > "$TMP/$name.rc"
}
x scenario.jsonl --format jsonl
same scenario.jsonl "scenario jsonl: rules, deals, visibility and links with their rules"
x deal.jsonl --format jsonl --deal DEAL-101
same deal.jsonl "jsonl --deal DEAL-101: the deal's threads"
sc export --format csv -o "$TMP/scsv" 2> /dev/null
check_equal "scenario csv: python reads it back, deals' contacts and all" "" \
	"$(csv_check "$TMP/scsv" "$TMP/scenario.jsonl")"
check_equal "scenario csv: a deal's contacts joined by a space" \
	'5,DEAL-104,Initech support,initech.example,open,tom@initech.example zoe@initech.example,' \
	"$(grep DEAL-104 "$TMP/scsv/deals.csv" | tr -d '\r')"
x scenario.mbox --format mbox
mkdir "$TMP/rt2"
sed "s#^Database .*#Database $TMP/rt2/store.db#" "$TMP/s.conf" > "$TMP/rt2.conf"
rt2() { (cd "$TMP" && "$CRMCTL" -c "$TMP/rt2.conf" "$@"); }
rt2 deals import "$SCEN/deals.csv" > /dev/null
rt2 import -q "$TMP/scenario.mbox"
rt2 export --format jsonl > "$TMP/rt2.jsonl" 2> /dev/null
"$PY" "$TMP/norm.py" "$TMP/scenario.jsonl" > "$TMP/a.norm"
"$PY" "$TMP/norm.py" "$TMP/rt2.jsonl" > "$TMP/b.norm"
check "scenario round trip: the same records (decisions and their rules included)" \
	diff -u "$TMP/a.norm" "$TMP/b.norm"

# ---- usage errors ----
check_equal "two entity filters are a usage error" 2 \
	"$(crm export --format json --account acme.com --thread 1 > /dev/null 2>&1; echo $?)"
check_equal "a bad date is a usage error" 2 \
	"$(crm export --format json --since 2025-13-45 > /dev/null 2>&1; echo $?)"
check_equal "an unknown format is a usage error" 2 \
	"$(crm export --format xml > /dev/null 2>&1; echo $?)"
check_equal "no --format is a usage error" 2 "$(crm export > /dev/null 2>&1; echo $?)"
sed "s#^Database .*#Database $TMP/missing/store.db#" "$TMP/c.conf" > "$TMP/missing.conf"
echo "an earlier export" > "$TMP/earlier.json"
check_equal "a store that cannot be opened: exit status 3, and -o FILE is left alone" \
	"3:an earlier export" \
	"$("$CRMCTL" -c "$TMP/missing.conf" export --format json -o "$TMP/earlier.json" 2> /dev/null;
	   echo "$?:$(cat "$TMP/earlier.json")")"

# ---- output: -o writes a private file; a write error says so and exits 1 ----
crm export --format jsonl -o "$TMP/out.jsonl" 2> /dev/null
check "-o writes the same bytes as stdout" cmp "$TMP/all.jsonl" "$TMP/out.jsonl"
check_equal "-o makes the file mode 0600" 600 "$(stat -c %a "$TMP/out.jsonl")"
if [ -w /dev/full ]; then
	crm export --format mbox -o /dev/full 2> "$TMP/full.err"
	check_equal "a full disk: exit status 1" 1 "$?"
	check_grep "a full disk: the error names the file" "/dev/full: write failed: No space left" \
		"$TMP/full.err"
else
	skip "a full disk" "no /dev/full"
fi
if command -v script > /dev/null; then
	script -qec "$CRMCTL -c $TMP/c.conf export --format jsonl -o $TMP/tty.jsonl" /dev/null \
		< /dev/null > "$TMP/tty.out" 2>&1
	check_grep "on a terminal a progress line is drawn" "messages.*msg/s" "$TMP/tty.out"
	check_grep "  and the last line follows" "exported 44 messages, 22 threads" "$TMP/tty.out"
	grep -q "msg/s" "$TMP/all.jsonl.err"
	check_equal "not when stderr is a file" 1 "$?"
else
	skip "progress on a terminal" "no script(1)"
fi

# ---- raw storage that keeps less: said on stderr, counted, exit 1 ----
for mode in headers none; do
	mkdir "$TMP/$mode"
	sed "s#^Database .*#Database $TMP/$mode/store.db#" "$TMP/c.conf" > "$TMP/$mode.conf"
	echo "RawStorage $mode" >> "$TMP/$mode.conf"
	(cd "$TMP" && "$CRMCTL" -c "$TMP/$mode.conf" import -q mail/001-acme-q3-forecast.eml \
		mail/002-acme-q3-reply-dave.eml)
	"$CRMCTL" -c "$TMP/$mode.conf" export --format mbox > "$TMP/$mode.mbox" 2> "$TMP/$mode.err"
	echo $? > "$TMP/$mode.rc"
done
check_equal "RawStorage headers: exit status 1" 1 "$(cat "$TMP/headers.rc")"
check_equal "RawStorage headers: each message named on stderr" 2 \
	"$(grep -c 'only the header block was kept' "$TMP/headers.err")"
check_equal "RawStorage headers: counted in the last line" \
	"exported 2 messages, 1 threads; 2 of them with headers only, 0 without a raw source (not exported)" \
	"$(tail -1 "$TMP/headers.err")"
"$PY" "$TMP/split.py" "$TMP/headers.mbox" "$TMP/hsplit" > /dev/null
head_of() { "$PY" -c 'import sys; d = open(sys.argv[1], "rb").read(); i = d.find(b"\n\n"); sys.stdout.buffer.write(d[:i + 2])' "$1"; }
check "RawStorage headers: the header block is exported byte for byte" \
	cmp "$TMP/hsplit/00000" <(head_of "$TMP/mail/001-acme-q3-forecast.eml")
check_equal "RawStorage none: exit status 1, nothing written" "1:0" \
	"$(cat "$TMP/none.rc"):$(wc -c < "$TMP/none.mbox")"
check_equal "RawStorage none: counted in the last line" \
	"exported 0 messages, 1 threads; 0 of them with headers only, 2 without a raw source (not exported)" \
	"$(tail -1 "$TMP/none.err")"

# ---- memory: export of a bigger store stays in the same max RSS ----
if [ -n "${CRM_SANITIZE:-}" ]; then
	skip "export memory does not grow with the store" "sanitizers keep freed memory"
	exit 0
fi
if [ ! -x /usr/bin/time ] || [ ! -x "$CRM_TOP/bench/gen" ]; then
	skip "export memory does not grow with the store" "needs /usr/bin/time and bench/gen"
	exit 0
fi
# rss N FORMAT - max RSS (KiB) of exporting a store of N synthetic messages
rss() {
	if [ ! -f "$TMP/gen$1/store.db" ]; then
		mkdir -p "$TMP/gen$1"
		"$PY" "$CRM_TOP/bench/gen" --count "$1" --format mbox --out "$TMP/gen$1/mbox" > /dev/null
		sed "s#^Database .*#Database $TMP/gen$1/store.db#" "$TMP/c.conf" > "$TMP/gen$1/c.conf"
		"$CRMCTL" -c "$TMP/gen$1/c.conf" import -q "$TMP/gen$1/mbox" > /dev/null 2>&1
		rm -f "$TMP/gen$1/mbox"
	fi
	/usr/bin/time -f %M -o "$TMP/rss" "$CRMCTL" -c "$TMP/gen$1/c.conf" export --format "$2" \
		> /dev/null 2> /dev/null && tail -1 "$TMP/rss"
}
SMALL=${EXPORT_MEM_SMALL:-1000}
BIG=${EXPORT_MEM_BIG:-5000}
for fmt in jsonl mbox; do
	if ! a=$(rss "$SMALL" "$fmt") || ! b=$(rss "$BIG" "$fmt"); then
		notok "export --format $fmt of the synthetic stores succeeds"
		continue
	fi
	# flat: a fifth more at most, and under 1 MiB more (a sort of every row
	# in a temporary b-tree showed as +1.3 MiB from 1000 to 5000 messages)
	if [ "$b" -le $((a * 5 / 4)) ] && [ "$b" -le $((a + 1024)) ]; then
		ok "export --format $fmt: max RSS $a KiB for $SMALL messages, $b KiB for $BIG"
	else
		notok "export --format $fmt: max RSS grows with the store: $a KiB for $SMALL messages, $b KiB for $BIG"
	fi
done
