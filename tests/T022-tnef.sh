#!/usr/bin/env bash
# T022-tnef.sh - a winmail.dat (application/ms-tnef) part is opened: the
# files it carries are listed as attachments (name, type, size, sha256)
# instead of it, and its body is the message's text when the MIME has none
# (the plain body before the RTF one; the MIME text before either).  A
# truncated or garbage TNEF stays one winmail.dat attachment, with a
# warning, and nothing crashes.  The messages come from tests/fixtures/mktnef.py.
. "$(dirname "$0")/test-lib.sh"

mkdir -p "$TMP/m"
python3 "$CRM_TOP/tests/fixtures/mktnef.py" "$TMP/m" > "$TMP/files.txt"
write_conf "$TMP/c.conf"
check "the five TNEF messages import" "$CRMCTL" -c "$TMP/c.conf" import "$TMP/m"

# attachments NAME - filename|content_type|size|sha256 of message <NAME@acme.example>
attachments() {
	sqlite3 -readonly "$TMP/store.db" "select a.filename, a.content_type, a.size, a.sha256
		from attachments a join messages m on m.id = a.message_id
		where m.msgid = '$1@acme.example' order by a.id"
}

check_equal "the three files of the TNEF are the attachments, with their sizes and sha256" \
	"$(cat "$TMP/files.txt")" "$(attachments tnef-rtf)"
check_equal "a TNEF beside a text part lists its file" \
	"$(sed -n 1p "$TMP/files.txt")" "$(attachments tnef-mimetext)"

"$CRMCTL" -c "$TMP/c.conf" export --format jsonl > "$TMP/all.jsonl" 2> /dev/null
# field ID KEY - the JSON value KEY of message <ID@acme.example> in the export
field() {
	python3 -c 'import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("message_id") == sys.argv[2] + "@acme.example":
        print(json.dumps(d.get(sys.argv[3]), ensure_ascii=False))' "$TMP/all.jsonl" "$1" "$2"
}
check_equal "with no text part, the RTF body of the TNEF is the text" \
	'"Hello Bob,\nThe Q3 figures are attached as promised.\nCafé at 10’s fine"' "$(field tnef-rtf body)"
check_equal "the plain body of the TNEF is taken before its RTF body" \
	'"Plain body from Outlook.\nSecond line."' "$(field tnef-plain body)"
check_equal "the MIME text part is taken before the TNEF's body" \
	'"The MIME text wins."' "$(field tnef-mimetext body)"
check_equal "a decoded TNEF leaves no warning" "[]" "$(field tnef-rtf warnings)"

for kind in truncated garbage; do
	check_equal "a $kind TNEF stays one winmail.dat attachment" \
		"winmail.dat|application/ms-tnef" \
		"$(attachments tnef-$kind | cut -d'|' -f1,2)"
done
check_equal "the truncated TNEF leaves a warning saying why" \
	'["TNEF part (winmail.dat) not decoded: truncated (an attribute runs past the end)"]' \
	"$(field tnef-truncated warnings)"
check_equal "the garbage TNEF leaves a warning saying why" \
	'["TNEF part (winmail.dat) not decoded: no TNEF signature"]' "$(field tnef-garbage warnings)"

# crmctl parse --json stays JSON (libytnef prints its errors on stdout)
check "parse --json of every TNEF message is valid JSON" \
	sh -c "for f in '$TMP'/m/*.eml; do '$CRMCTL' -c '$TMP/c.conf' parse --json \"\$f\" | python3 -m json.tool > /dev/null || exit 1; done"
exit 0
