#!/usr/bin/env bash
# T200-viewer-http.sh - crmview over HTTP: strict headers on every answer,
# methods, login and signed session cookies, bad requests answered 4xx
# without a crash, escaping of hostile mail in HTML and JSON, the access
# log, proxy authentication, TLS, and a store that is never written
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"

D=$TMP/v
viewer_store "$D" || { notok "the test store is built"; sed 's/^/# /' "$D/import.log"; exit 1; }
ok "the test store is built"
sha_before=$(sha256sum "$D/store.db" | cut -d' ' -f1)
check "crmview starts on a free port" viewer_start main "$D"
U=$VIEW_URL
J=$TMP/jar-alice
HOSTILE=$(sqlite3 "$D/store.db" "SELECT thread_id FROM messages WHERE msgid = 'hostile-1@evil-corp.example'")
HR=$(sqlite3 "$D/store.db" "SELECT thread_id FROM messages WHERE msgid = 'hr-1@payroll-partner.de'")

# status PATH [CURL ARGS] - the status code of a GET
status() { local p=$1; shift; curl -s -o /dev/null -w '%{http_code}' "$@" "$U$p"; }

# ---- strict headers on every kind of answer ----
login "$J" alice
for what in "/accounts" "/threads/$HOSTILE" "/login" "/static/style.css" "/api/accounts" \
	    "/threads/999999" "/nope" "/accounts?page=x" "/api/threads/abc"; do
	curl -s -D "$TMP/h" -o /dev/null -b "$J" "$U$what"
	tr -d '\r' < "$TMP/h" > "$TMP/h2"
	if grep -q "^Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$" "$TMP/h2" &&
	   grep -q '^X-Content-Type-Options: nosniff$' "$TMP/h2" &&
	   grep -q '^Referrer-Policy: no-referrer$' "$TMP/h2" &&
	   grep -q '^Cache-Control: no-store$' "$TMP/h2"; then
		ok "strict headers on GET $what ($(head -1 "$TMP/h2" | cut -d' ' -f2))"
	else
		notok "strict headers on GET $what"; sed 's/^/# /' "$TMP/h2"
	fi
done
curl -s -D "$TMP/h" -o /dev/null -X PUT "$U/accounts"
check_grep "strict headers on a 405 as well" "^Content-Security-Policy: default-src 'none'" "$TMP/h"

# ---- methods ----
for m in PUT DELETE PATCH OPTIONS TRACE; do
	check_equal "$m is refused with 405" 405 "$(status /accounts -X "$m" -b "$J")"
done
check_equal "POST is refused outside /login" 405 "$(status /accounts -b "$J" -d x=1)"
curl -s -D "$TMP/h" -o /dev/null -X DELETE "$U/threads/1"
check_grep "405 says what is allowed" '^Allow: GET, HEAD' "$TMP/h"
curl -s -I -b "$J" "$U/accounts" > "$TMP/head"
check_equal "HEAD answers 200 with headers and no body" "200 0" \
	"$(head -1 "$TMP/head" | cut -d' ' -f2) $(curl -s -I -b "$J" "$U/accounts" -o /dev/null -w '%{size_download}')"

# ---- login, sessions ----
check_equal "a page without a session goes to the login form" "303 /login?next=%2Faccounts" \
	"$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$U/accounts" | sed "s|$U||")"
check_equal "the API without a session answers 401" 401 "$(status /api/accounts)"
curl -s -D "$TMP/h" -o /dev/null --data-urlencode "address=alice@example.com" \
	--data-urlencode "password=pw-alice-2025" "$U/login"
check_grep "the session cookie is HttpOnly and SameSite=Strict" \
	'^Set-Cookie: crmview=[A-Za-z0-9_.-]*; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200' "$TMP/h"
check_equal "a wrong password is 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' \
	-d 'address=alice@example.com&password=wrong-one' "$U/login")"
check_equal "an unknown user is 401 too" 401 "$(curl -s -o /dev/null -w '%{http_code}' \
	-d 'address=nobody@example.com&password=pw-alice-2025' "$U/login")"
check_equal "a login form from another site is 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' \
	-H 'Origin: http://evil.example' -d 'address=alice@example.com&password=pw-alice-2025' "$U/login")"
check_equal "a login form another site made the browser post is 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' \
	-H 'Origin: null' -H 'Sec-Fetch-Site: cross-site' -d 'address=alice@example.com&password=pw-alice-2025' "$U/login")"
check_equal "a logged-in user sees the records" 200 "$(status /accounts -b "$J")"
check_equal "login returns to the page asked for" "/threads/1" "$(curl -s -o /dev/null \
	-w '%{redirect_url}' -d 'address=alice@example.com&password=pw-alice-2025&next=%2Fthreads%2F1' \
	"$U/login" | sed "s|$U||")"
check_equal "login never sends anyone to another site" "/accounts" "$(curl -s -o /dev/null \
	-w '%{redirect_url}' -d 'address=alice@example.com&password=pw-alice-2025&next=%2F%2Fevil.example' \
	"$U/login" | sed "s|$U||")"

# cookies made here with the key file: HMAC-SHA512-256 under BLAKE2b-256 of
# the file; SID names a session of the server (the one of the login in $J)
cat > "$TMP/cookie.py" <<'EOF'
import base64, hashlib, hmac, sys
key = hashlib.blake2b(open(sys.argv[1], "rb").read(), digest_size=32).digest()
payload = ("2|%s|%s|%s|%s" % (sys.argv[2], sys.argv[3], sys.argv[5], sys.argv[4])).encode()
mac = hmac.new(key, payload, hashlib.sha512).digest()[:32]
b = lambda x: base64.urlsafe_b64encode(x).decode().rstrip("=")
print(b(payload) + "." + b(mac))
EOF
FP=$(sqlite3 "$D/store.db" "SELECT secret FROM users WHERE login = 'alice@example.com'" |
	python3 -c 'import hashlib,sys; print(hashlib.blake2b(sys.stdin.read().rstrip("\n").encode(), digest_size=8).hexdigest())')
SID=$(awk '$6 == "crmview" { print $7 }' "$J" | cut -d. -f1 |
	python3 -c 'import base64,sys; t=sys.stdin.read().strip(); print(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)).decode().split("|")[3])')
future=$(( $(date +%s) + 3600 )); past=$(( $(date +%s) - 10 )); decade=$(( $(date +%s) + 3650 * 86400 ))
good=$(python3 "$TMP/cookie.py" "$D/session.key" "$future" "$FP" alice@example.com "$SID")
check_equal "a cookie signed with the key for a live session is accepted" 200 "$(status /api/me -b "crmview=$good")"
check_equal "a signed cookie, ten years long, for a session the server never made is refused" 401 \
	"$(status /api/me -b "crmview=$(python3 "$TMP/cookie.py" "$D/session.key" "$decade" "$FP" alice@example.com 0123456789abcdef0123456789abcdef)")"
check_equal "an expired cookie is refused" 401 \
	"$(status /api/me -b "crmview=$(python3 "$TMP/cookie.py" "$D/session.key" "$past" "$FP" alice@example.com "$SID")")"
check_equal "a cookie for an old password is refused" 401 \
	"$(status /api/me -b "crmview=$(python3 "$TMP/cookie.py" "$D/session.key" "$future" 0123456789abcdef alice@example.com "$SID")")"
head -c 40 /dev/urandom > "$TMP/other.key"
check_equal "a cookie signed with another key is refused" 401 \
	"$(status /api/me -b "crmview=$(python3 "$TMP/cookie.py" "$TMP/other.key" "$future" "$FP" alice@example.com "$SID")")"
check_equal "a cookie naming another user with alice's MAC is refused" 401 \
	"$(status /api/me -b "crmview=$(echo "$good" | sed 's/^[^.]*/MXx4fHh8YWRtaW5AZXhhbXBsZS5jb20/')")"
check_equal "garbage cookies are refused" "401 401 401" "$(status /api/me -b 'crmview=...') \
$(status /api/me -b 'crmview=%00%ff') $(status /api/me -b "crmview=$(head -c 3000 /dev/zero | tr '\0' A)")"
login "$TMP/jar-frank" frank
echo "pw-frank-2026" | $CRMCTL -c "$D/base.conf" user passwd frank@example.com > /dev/null
check_equal "a new password ends the user's sessions" 401 "$(status /api/me -b "$TMP/jar-frank")"
echo "pw-frank-2025" | $CRMCTL -c "$D/base.conf" user passwd frank@example.com > /dev/null
check_equal "logout clears the cookie" "crmview=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" \
	"$(curl -s -D - -o /dev/null "$U/logout" | tr -d '\r' | sed -n 's/^Set-Cookie: //p')"

# ---- bad requests: a clear 4xx, never a crash ----
while read -r want path; do
	check_equal "GET $path is $want" "$want" "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' -b "$J" "$U$path")"
done <<EOF
404 /threads/abc
404 /threads/0
404 /threads/007
404 /threads/999999999
404 /threads/99999999999999999999999
404 /threads/1/extra
400 /threads/1%00
400 /../../etc/passwd
400 /%2e%2e/%2e%2e/etc/passwd
400 /static/..%2f..%2fetc%2fpasswd
400 //accounts
400 /accounts?page=abc
400 /accounts?page=-1
400 /accounts?page=99999999999
400 /accounts?sort=name;DROP%20TABLE
400 /accounts?dir=sideways
400 /api/accounts?limit=0
400 /api/accounts?limit=100000
400 /search?q=%FF%FE
400 /search?q=a%01b
404 /api/nothing
404 /accounts/1e3
404 /deals/-1
403 /mailboxes
EOF
check_equal "a parameter of 600 bytes is 400" 400 "$(status "/search?q=$(head -c 600 /dev/zero | tr '\0' a)" -b "$J")"
check_equal "a path of 5000 bytes is 414" 414 "$(status "/$(head -c 5000 /dev/zero | tr '\0' a)" -b "$J")"
check_equal "seventeen parameters are 400" 400 "$(status "/accounts?$(seq -s '&' -f 'p%g=1' 17)" -b "$J")"
check_equal "a login form of 10 kB is 413" 413 "$(curl -s -o /dev/null -w '%{http_code}' \
	--data "address=$(head -c 10000 /dev/zero | tr '\0' a)" "$U/login")"
check_equal "an API error is JSON" '{"error":"There is no such thread.","status":404}' \
	"$(curl -s -b "$J" "$U/api/threads/999999")"
check_equal "the server is still up after all that" 200 "$(status /static/style.css)"

# ---- hostile mail is inert text ----
curl -s -b "$J" "$U/threads/$HOSTILE" > "$TMP/hostile.html"
check_grep "the hostile subject is shown escaped" \
	"&lt;script&gt;document.title=&#39;PWNED-SUBJECT&#39;&lt;/script&gt; quarterly invoice" "$TMP/hostile.html"
check_grep "the hostile body is shown escaped" "&lt;/textarea&gt;&lt;/pre&gt;&lt;/details&gt;&lt;script&gt;" "$TMP/hostile.html"
check_grep "attachment names are escaped" "&lt;img src=/pwned-att onerror=alert(1)&gt;.pdf" "$TMP/hostile.html"
check_grep "a bidi override in a file name is neutralised" "invoice�txt.exe" "$TMP/hostile.html"
check_grep "display names are escaped" "Mallory &quot;onmouseover=alert(1)" "$TMP/hostile.html"
for p in "/threads/$HOSTILE" /accounts /contacts /unassigned "/search?q=PWNED" "/search?q=%3Cscript%3E"; do
	curl -s -b "$J" "$U$p" > "$TMP/page"
	n=$(grep -o -i -E '<(script|img|svg|iframe|object|embed|meta http|link rel="stylesheet" href="/pwned|base )' "$TMP/page" | wc -l)
	check_equal "no markup from mail on $p" 0 "$n"
done
# a timeline counts each thread's attachments (threads.attachments, schema 5)
read -r ATT ACC NATT <<< "$(sqlite3 -separator ' ' "$D/store.db" "SELECT m.thread_id, l.account_id,
	count(DISTINCT a.id) FROM messages m JOIN attachments a ON a.message_id = m.id
	JOIN links l ON l.thread_id = m.thread_id AND l.account_id IS NOT NULL
	JOIN threads t ON t.id = m.thread_id WHERE t.visibility = 'workspace'
	GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1")"
check "a workspace thread with attachments is on an account" test "${NATT:-0}" -gt 0
check_equal "its account's timeline counts them" "$NATT" "$(curl -s -b "$J" "$U/api/accounts/$ACC" |
	python3 -c 'import json, sys
def walk(v):
    if isinstance(v, dict):
        if v.get("id") == int(sys.argv[1]) and "attachments" in v and "directions" in v:
            print(v["attachments"])
        for x in v.values(): walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
walk(json.load(sys.stdin))' "$ATT")"
curl -s -b "$J" "$U/api/threads/$HOSTILE" > "$TMP/hostile.json"
check_equal "the JSON has no raw <, > or &" 0 "$(tr -cd '<>&' < "$TMP/hostile.json" | wc -c)"
check_grep "the JSON carries the subject escaped" '\\u003cscript\\u003edocument.title=' "$TMP/hostile.json"
check "the JSON parses back to the hostile subject" python3 -c '
import json,sys; t=json.load(open(sys.argv[1]))
assert t["items"][0]["subject"].startswith("<script>document.title="), t["items"][0]["subject"]' "$TMP/hostile.json"

# ---- access log: who opened which thread, when ----
LOG=$D/main-access.log
check_grep "the access log names the user and the thread" \
	"^20[0-9-]*T[0-9:]*Z 127.0.0.1 alice@example.com \"GET /threads/$HOSTILE\" 200 [0-9]* thread=$HOSTILE access=everything$" "$LOG"
curl -s -o /dev/null -b "$J" "$U/threads/$HR"
check_grep "a hidden thread is logged as such" "alice@example.com \"GET /threads/$HR\" 404 [0-9]* thread=$HR access=none" "$LOG"
curl -s -o /dev/null --path-as-is -b "$J" "$U/x%0aforged%20line"
check_grep "a path cannot forge a log line" '"GET /x\\x0aforged\\x20line" 404' "$LOG"
check_grep "failed logins are logged" '"POST /login" 401 [0-9]* login=failed' "$LOG"

# ---- the store is never written ----
sha_after=$(sha256sum "$D/store.db" | cut -d' ' -f1)
check_equal "the store file is unchanged by a whole session" "$sha_before" "$sha_after"
check_equal "users and sessions live in no new table" 0 \
	"$(sqlite3 "$D/store.db" "SELECT count(*) FROM audit")"

# ---- proxy authentication ----
viewer_start proxy "$D" ViewerAuth proxy ViewerProxyAddresses 127.0.0.1/32
P=$VIEW_URL
check_equal "proxy: the named user is served" '"address":"carol@example.com"' \
	"$(curl -s -H 'X-Remote-User: Carol@Example.com' "$P/api/me" | grep -o '"address":"[^"]*"')"
check_equal "proxy: no header is 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$P/api/me")"
check_equal "proxy: an unknown user is 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Remote-User: eve@example.com' "$P/api/me")"
check_equal "proxy: the login form is not offered" 404 "$(curl -s -o /dev/null -w '%{http_code}' -d 'address=alice@example.com&password=pw-alice-2025' "$P/login")"
check_equal "proxy: a session cookie counts for nothing" 401 "$(curl -s -o /dev/null -w '%{http_code}' -b "$J" "$P/api/me")"
viewer_start proxy2 "$D" ViewerAuth proxy ViewerProxyAddresses 192.0.2.1/32
check_equal "proxy: the header from an untrusted address is 403" 403 \
	"$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Remote-User: alice@example.com' "$VIEW_URL/api/me")"

# ---- TLS ----
if command -v openssl > /dev/null 2>&1 &&
   openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/tls.key" -out "$D/tls.crt" -days 2 \
	-subj /CN=127.0.0.1 > /dev/null 2>&1; then
	[ "$(id -u)" -eq 0 ] && chown crmilter "$D/tls.key" "$D/tls.crt"
	viewer_start tls "$D" ViewerTLSCert "$D/tls.crt" ViewerTLSKey "$D/tls.key"
	T=$(echo "$VIEW_URL" | sed 's/^http:/https:/')
	curl -sk -D "$TMP/h" -o /dev/null --data-urlencode "address=alice@example.com" \
		--data-urlencode "password=pw-alice-2025" "$T/login"
	check_grep "TLS: the cookie is Secure" '^Set-Cookie: crmview=.*; Secure' "$TMP/h"
	check_grep "TLS: Strict-Transport-Security is sent" '^Strict-Transport-Security: max-age=' "$TMP/h"
	check_equal "TLS: plain HTTP is not answered" 000 "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$VIEW_URL/login")"
else
	skip "TLS" "openssl missing"
fi
sed "s|^Database .*|Database $D/missing.db|" "$D/main.conf" > "$D/missing.conf"
check_fails "a store that does not exist stops crmview at start" \
	"$VIEWER" -c "$D/missing.conf" -l 127.0.0.1:0
exit 0
