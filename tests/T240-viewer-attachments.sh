#!/usr/bin/env bash
# T240-viewer-attachments.sh - attachments open or download from crmview's
# thread page: the bytes are the part's, decoded from the stored raw source
# (MIME parts, a uuencoded part, the files of a winmail.dat), checked
# against sha256 computed by Python's email module; the headers (inline only
# for PNG, JPEG, GIF, WebP and PDF; octet-stream and attachment otherwise; a
# hostile file name made safe; nosniff; the CSP with sandbox); who gets the
# bytes (the thread page's visibility, message by message); a bad id; a raw
# source not kept or no longer matching; the access log's line per download;
# the thread page's links and its folded small images.  Fixtures:
# tests/viewer/attach/mkattach.py and tests/fixtures/mktnef.py.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"
A=$CRM_TOP/tests/viewer/attach
D=$TMP/v
mkdir -p "$D" "$TMP/mail" "$TMP/tnef"
python3 "$A/mkattach.py" "$TMP/mail"
python3 "$CRM_TOP/tests/fixtures/mktnef.py" "$TMP/tnef" > "$TMP/tnef-files.txt"
cp "$TMP/tnef/rtf.eml" "$TMP/mail/tnef.eml"

# att_store DIR [KEY VALUE]... - a store of the fixtures with the users of lib.sh
att_store() {
	local d=$1; shift
	mkdir -p "$d"
	cat > "$d/base.conf" <<CONF
Database $d/store.db
Domains example.com
FreemailDomains $CRM_TOP/contrib/freemail-domains.txt
RulesFile $VT/rules
UserID crmilter
ViewerSessionKeyFile $d/session.key
CONF
	while [ $# -ge 2 ]; do echo "$1 $2" >> "$d/base.conf"; shift 2; done
	local C="$CRMCTL -c $d/base.conf"
	$C import "$TMP/mail" > "$d/import.log" 2>&1 || return 1
	for u in alice carol frank ivan; do
		$C user add $u@example.com > /dev/null 2>&1 || return 1
	done
	$C user add admin@example.com --role admin > /dev/null 2>&1 || return 1
	for u in alice carol frank ivan admin; do
		echo "pw-$u-2025" | $C user passwd "$u@example.com" > /dev/null || return 1
	done
	viewer_owner "$d"
}
att_store "$D" || { notok "the test store is built"; sed 's/^/# /' "$D/import.log"; exit 1; }
ok "the test store is built"
check "crmview starts" viewer_start main "$D"
U=$VIEW_URL
for u in alice carol frank ivan admin; do login "$TMP/jar.$u" $u; done

q() { sqlite3 -readonly "$D/store.db" "$1"; }
thread_of() { q "SELECT thread_id FROM messages WHERE msgid = '$1'"; }
# rows MSGID - the attachment ids of message MSGID in order
rows() { q "SELECT a.id FROM attachments a JOIN messages m ON m.id = a.message_id
	    WHERE m.msgid = '$1' ORDER BY a.id"; }
# get USER PATH [CURL ARGS] - status of GET PATH as USER, body in $TMP/body, headers in $TMP/hdr
get() {
	local u=$1 p=$2; shift 2
	curl -s -D "$TMP/hdr.raw" -o "$TMP/body" -w '%{http_code}' -b "$TMP/jar.$u" "$@" "$U$p"
	tr -d '\r' < "$TMP/hdr.raw" > "$TMP/hdr"
}
hdr() { sed -n "s/^$1: //p" "$TMP/hdr"; }

FILES=$(thread_of att-files@globex.co.uk)
IDS=($(rows att-files@globex.co.uk))
check_equal "the Globex message lists its eight attachments" 8 "${#IDS[@]}"

# ---- the bytes: each part as Python's email module decodes it ----
python3 "$A/parts.py" "$TMP/mail/files.eml" > "$TMP/expected-parts"
: > "$TMP/got-parts"
for id in "${IDS[@]}"; do
	get alice "/threads/$FILES/attachments/$id" > /dev/null
	echo "$(sha256sum < "$TMP/body" | cut -d' ' -f1) $(stat -c %s "$TMP/body")" >> "$TMP/got-parts"
done
check_output "every attachment downloads as the bytes of its part (sha256, size; uuencoded too)" \
	"$TMP/expected-parts" cat "$TMP/got-parts"

TNEF=$(thread_of tnef-rtf@acme.example)
: > "$TMP/got-tnef"
for id in $(rows tnef-rtf@acme.example); do
	get alice "/threads/$TNEF/attachments/$id" > /dev/null
	echo "$(q "SELECT filename || '|' || content_type FROM attachments WHERE id = $id")|$(stat -c %s "$TMP/body")|$(sha256sum < "$TMP/body" | cut -d' ' -f1)" >> "$TMP/got-tnef"
done
check_output "the files inside a winmail.dat download as mktnef.py wrote them" \
	"$TMP/tnef-files.txt" cat "$TMP/got-tnef"

# ---- headers ----
CSP="default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; sandbox"
# headers_are N TYPE DISPOSITION - attachment N (1-based) of the Globex message is sent so
headers_are() {
	local id=${IDS[$(($1 - 1))]}
	get alice "/threads/$FILES/attachments/$id" > /dev/null
	check_equal "attachment $1 is sent as $2, $3" "$2|$3|nosniff|$CSP" \
		"$(hdr Content-Type)|$(hdr Content-Disposition)|$(hdr X-Content-Type-Options)|$(hdr Content-Security-Policy)"
}
headers_are 1 image/png "inline; filename=\"image001.png\"; filename*=UTF-8''image001.png"
headers_are 2 application/pdf "inline; filename=\"Quote 2025.pdf\"; filename*=UTF-8''Quote%202025.pdf"
headers_are 3 image/png "inline; filename=\"chart.png\"; filename*=UTF-8''chart.png"
headers_are 4 application/octet-stream "attachment; filename=\"setup.exe\"; filename*=UTF-8''setup.exe"
headers_are 5 application/octet-stream "attachment; filename=\"invoice.html\"; filename*=UTF-8''invoice.html"
headers_are 6 application/octet-stream "attachment; filename=\"_.._.._evil__ X-Injected_ 1 r_sum_.txt\"; filename*=UTF-8''_.._.._evil__%20X-Injected_%201%20r%C3%A9sum%C3%A9.txt"
headers_are 7 application/octet-stream "attachment; filename=\"logo.svg\"; filename*=UTF-8''logo.svg"
headers_are 8 application/octet-stream "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
get alice "/threads/$FILES/attachments/${IDS[5]}" > /dev/null
check_equal "the hostile name's header holds no CR, LF, path or extra quote" \
	"1 2" "$(grep -c '^Content-Disposition' "$TMP/hdr") $(hdr Content-Disposition | tr -cd '"' | wc -c)"
check_fails "no header is injected by the file name" grep -qi '^X-Injected' "$TMP/hdr"
check_equal "a download keeps the viewer's other strict headers" "no-store|DENY|no-referrer" \
	"$(hdr Cache-Control)|$(hdr X-Frame-Options)|$(hdr Referrer-Policy)"
check_equal "HEAD answers 200 with the length and no body" "200 142 0" \
	"$(curl -s -I -b "$TMP/jar.alice" "$U/threads/$FILES/attachments/${IDS[1]}" -o "$TMP/head" -w '%{http_code}') $(tr -d '\r' < "$TMP/head" | sed -n 's/^Content-Length: //p') $(curl -s -I -b "$TMP/jar.alice" "$U/threads/$FILES/attachments/${IDS[1]}" -o /dev/null -w '%{size_download}')"
FAKE=$(thread_of att-fake@acme.com)
get alice "/threads/$FAKE/attachments/$(rows att-fake@acme.com)" > /dev/null
check_equal "HTML that calls itself image/png is sent as octet-stream, attachment" \
	"application/octet-stream|attachment; filename=\"shot.png\"; filename*=UTF-8''shot.png" \
	"$(hdr Content-Type)|$(hdr Content-Disposition)"
check_equal "the /api form sends the same bytes" "200 $(sed -n 2p "$TMP/expected-parts" | cut -d' ' -f1)" \
	"$(get alice "/api/threads/$FILES/attachments/${IDS[1]}") $(sha256sum < "$TMP/body" | cut -d' ' -f1)"

# ---- who gets the bytes ----
I1=$(thread_of att-initech-1@initech.de)
IN1=$(rows att-initech-1@initech.de); IN2=$(rows att-initech-2@initech.de)
HR=$(thread_of att-hr@payroll-partner.de); HRA=$(rows att-hr@payroll-partner.de)
check_equal "the Initech reply joined the Initech thread" "$I1" "$(thread_of att-initech-2@initech.de)"
# who USER THREAD ID STATUS DESC
who() { check_equal "$5" "$4" "$(get "$1" "/threads/$2/attachments/$3")"; }
who alice "$FILES" "${IDS[1]}" 200 "alice (sales team) gets the Globex PDF"
who frank "$FILES" "${IDS[1]}" 403 "frank sees the Globex thread at subject level: 403, no bytes"
check_fails "...and the 403 holds none of the bytes" grep -q '%PDF' "$TMP/body"
who admin "$FILES" "${IDS[1]}" 403 "the admin, bound by visibility, sees subjects only: 403"
who frank "$I1" "$IN1" 403 "frank sees the Initech thread at metadata level: 403"
who ivan "$I1" "$IN2" 200 "ivan, put in To of the Initech reply, gets that reply's PDF"
who ivan "$I1" "$IN1" 403 "...but not the earlier message's (metadata for him)"
who carol "$HR" "$HRA" 200 "carol, a participant, gets the HR PDF"
who alice "$HR" "$HRA" 404 "alice, who may not see the HR thread, gets 404"
cp "$TMP/body" "$TMP/body-hidden"
who alice "$HR" 999999 404 "an attachment that does not exist is 404"
check_output "...with the very page a hidden one gets" "$TMP/body-hidden" cat "$TMP/body"
who alice "$FILES" "$HRA" 404 "an attachment asked for under another thread is 404"
who carol "$FILES" "$HRA" 404 "...even for a user who may see it"
who alice "$FILES" 0 404 "attachment 0 is 404"
who alice "$FILES" abc 404 "a non-number is 404"
who alice "$FILES" "0${IDS[0]}" 404 "a leading zero is 404"
check_equal "the API answers a bad id in JSON" "404 application/json" \
	"$(get alice "/api/threads/$FILES/attachments/999999") $(hdr Content-Type)"
check_equal "without a session, a download goes to the login form" 303 \
	"$(curl -s -o /dev/null -w '%{http_code}' "$U/threads/$FILES/attachments/${IDS[1]}")"
get frank "/threads/$FILES" > /dev/null
check_fails "frank's thread page links no attachment" grep -q '/attachments/' "$TMP/body"
check_grep "...and counts them" '8 attachment(s)' "$TMP/body"

# ---- the access log ----
LOG=$D/main-access.log
MID=$(q "SELECT id FROM messages WHERE msgid = 'att-files@globex.co.uk'")
check_grep "a download is logged with thread, message, position, id and level" \
	"alice@example.com \"GET /threads/$FILES/attachments/${IDS[1]}\" 200 142 thread=$FILES message=$MID attachment=2 attachment_id=${IDS[1]} access=everything$" "$LOG"
check_grep "a refused one too, with the user's level" \
	"frank@example.com \"GET /threads/$FILES/attachments/${IDS[1]}\" 403 [0-9]* thread=$FILES message=$MID attachment=2 attachment_id=${IDS[1]} access=subject$" "$LOG"
check_grep "a hidden one names no message" \
	"alice@example.com \"GET /threads/$HR/attachments/$HRA\" 404 [0-9]* thread=$HR attachment_id=$HRA access=none$" "$LOG"

# ---- the thread page ----
get alice "/threads/$FILES" > /dev/null
for n in 2 3 4 5 6 8; do
	check_grep "the thread page links attachment $n to its download" \
		"<a class=\"fname\" href=\"/threads/$FILES/attachments/${IDS[$((n - 1))]}\">" "$TMP/body"
done
check_grep "the two small images (signature PNG, SVG) are folded as inline images" \
	'<details class="att-inline"><summary>2 inline images</summary><ul class="att"><li><a class="fname" href="/threads/'"$FILES/attachments/${IDS[0]}"'">image001.png</a>.*logo.svg</a>.*</ul></details>' "$TMP/body"
check_grep "the hostile name is escaped on the page" '&quot;../../evil\\&quot; X-Injected: 1 résumé.txt</a>' "$TMP/body"

# ---- a real browser follows the links ----
if command -v chromium > /dev/null 2>&1; then
	timeout 120 python3 "$A/browser.py" "$U" "$FILES" setup.exe \
		"$(sed -n 4p "$TMP/expected-parts" | cut -d' ' -f1)" chart.png ||
		notok "the browser check ran to its end"
else
	skip "the browser follows the links" "chromium is not installed"
fi

# ---- bytes that cannot be given ----
sqlite3 "$D/store.db" "UPDATE attachments SET sha256 = '$(printf '0%.0s' $(seq 64))' WHERE id = ${IDS[3]}"
who alice "$FILES" "${IDS[3]}" 404 "a row whose sha256 the raw source no longer gives is 404"
check_grep "...saying it is not available" 'not available: the stored source no longer' "$TMP/body"
check_grep "...and crmview warns" "attachment ${IDS[3]}: the raw source no longer gives" "$D/main.out"
viewer_stop_all
att_store "$TMP/h" RawStorage headers || { notok "a store keeping headers only is built"; exit 1; }
check "crmview starts on it" viewer_start main "$TMP/h"
U=$VIEW_URL
login "$TMP/jar.alice" alice
HF=$(sqlite3 -readonly "$TMP/h/store.db" "SELECT thread_id FROM messages WHERE msgid = 'att-files@globex.co.uk'")
HID=$(sqlite3 -readonly "$TMP/h/store.db" "SELECT min(a.id) FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.msgid = 'att-files@globex.co.uk'")
who alice "$HF" "$HID" 404 "with RawStorage headers an attachment is 404"
check_grep "...saying it is not available" 'not available: the store keeps no full' "$TMP/body"
exit 0
