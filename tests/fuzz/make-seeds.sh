#!/bin/sh
# make-seeds.sh - rebuild tests/fuzz/seeds/ from the project's fixtures
#
# usage: sh tests/fuzz/make-seeds.sh   (from the top of the tree)
# Seeds are the starting corpora of `make fuzz`; `make test` also replays
# them through the plain build of each target.  They are kept in git so a
# fuzzing run starts from the same place everywhere; run this again when
# the fixtures in tests/corpora or contrib/ change.
set -eu
cd "$(dirname "$0")/../.."
S=tests/fuzz/seeds
C=tests/corpora
rm -rf "$S"
mkdir -p "$S/fuzz_mail_parse" "$S/fuzz_mail_source" "$S/fuzz_conf" "$S/fuzz_spool" \
	"$S/fuzz_rules" "$S/fuzz_view"

# mail_parse: every fixture message
for f in "$C"/mail/*.eml "$C"/maildir/cur/* "$C"/maildir/new/*; do
	cp "$f" "$S/fuzz_mail_parse/$(basename "$f" | tr ':,' '__')"
done

# mail_source: the mbox, two single messages, and the Maildir in the
# target's "MAILDIR\n" + files cut at "\n\001\n" form
cp "$C/mbox/sample.mbox" "$S/fuzz_mail_source/sample.mbox"
cp "$C/mail/008-acme-q3-alice-final-crlf.eml" "$S/fuzz_mail_source/crlf.eml"
cp "$C/mail/036-internal-lunch.eml" "$S/fuzz_mail_source/lunch.eml"
{
	printf 'MAILDIR\n'
	first=1
	for f in "$C"/maildir/cur/* "$C"/maildir/new/*; do
		[ $first -eq 1 ] || printf '\n\001\n'
		first=0
		cat "$f"
	done
} > "$S/fuzz_mail_source/maildir"
# an mboxo file with escaped and unescaped From lines, CR-only line ends
printf 'From a@b Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From me\n>>From you\nFrom nobody\n\nFrom b@c Tue Jan  2 00:00:00 2024\nSubject: two\n\nbody\n' \
	> "$S/fuzz_mail_source/mboxo"
printf 'Subject: cr only\r\rbody\r' > "$S/fuzz_mail_source/cr-only"

# conf: the example file and small files using every key type
cp contrib/crmilter.conf.example "$S/fuzz_conf/example.conf"
printf 'Database /tmp/x.db\nDomains example.com, example.org\nDomains sub.example.net\nInternalHosts 10.0.0.0/8 ::1/128\nRawStorage headers\nMaxMessageSize 25M\nMaxSpoolSize 1G\nBusyTimeout 5000\nSyslogFacility local3\n' \
	> "$S/fuzz_conf/all-types.conf"
printf '# comment\n\n  Socket   inet:8894@127.0.0.1  \nUserID crmilter\r\nPidFile /run/x.pid\n' > "$S/fuzz_conf/spaces.conf"
printf '2024-03-01T10:20:30Z\nDomains example.com\n' > "$S/fuzz_conf/date-first-line.conf"
printf '512k\nMaxMessageSize 512k\n' > "$S/fuzz_conf/size-first-line.conf"

# spool: files in crmilter's spool format (spool.h) around fixture messages
spool_file() {	# spool_file OUT MESSAGE ENVELOPE
	len=$(wc -c < "$2")
	printf 'CRMSPOOL1 %020d\n' $((31 + len)) > "$1"
	cat "$2" >> "$1"
	printf '%b' "$3" >> "$1"
}
spool_file "$S/fuzz_spool/inbound" "$C/mail/002-acme-q3-reply-dave.eml" \
	'queue-id 4F2C1A8212C\nmail-from dave@mail.acme.com\nrcpt alice@example.com\nrcpt secret@example.com\nclient-addr 192.0.2.7\nclient-name mail.acme.com\nmessage-id <a%20b@acme.com>\narrival 1700000000\nsize 1234\noriginated 0\ntruncated 0\nheaders-only 0\n'
spool_file "$S/fuzz_spool/outbound" "$C/mail/001-acme-q3-forecast.eml" \
	'queue-id 5B327A82136\nmail-from alice@example.com\nrcpt dave@acme.com\nauth-authen alice\ndaemon-name ORIGINATING\narrival 1700000001\nsize 99\noriginated 1\ntruncated 1\nheaders-only 0\nfuture-key some value\n'
spool_file "$S/fuzz_spool/null-sender" "$C/mail/034-bounce-dsn.eml" \
	'mail-from \nrcpt sales@example.com\narrival 0\noriginated -1\nheaders-only 1\n'

# rules: the example, every rules file of the tests, and small files using
# each test, verb and pattern kind once more
cp contrib/rules.example "$S/fuzz_rules/example.rules"
cp tests/corpora/scenario/rules "$S/fuzz_rules/scenario.rules"
for f in tests/rules/*.rules; do
	cp "$f" "$S/fuzz_rules/$(basename "$f")"
done
printf '[log]\nskip "small" if size <= 10k and size >= 1 and not size = 5\nlog "big" if size > 2M or size < 3\nlog if auth dkim=pass and auth spf=fail and auth aligned\nlog if header Received /from/ and subject "Re:" /^aw:/i\nprivate if marked-private\n' \
	> "$S/fuzz_rules/conditions.rules"
printf 'list a = x@y.example "lit" /re(g)ex/imsx @./good-domains.txt\nlist b = @a @automated\nteam t = a@example.com\n[capture]\npolicy none\nalways @b\nnever @team:t\n[associate]\naccount "A" = @a\ndeal header X-Deal-Id /^(\\w+)-(\\d+)/\ndeal subject /(DEAL-\\d+)/ if outbound\n[visibility]\nteam t metadata if mailbox @team:t\nparticipants subject\n' \
	> "$S/fuzz_rules/lists-teams.rules"
printf 'list = \n[nosuch]\nlog if\nskip "x\n/unterminated\n@/nonexistent/file\n[log]\nlog if size > 99999999999999999999G\n' \
	> "$S/fuzz_rules/errors.rules"

# view: raw HTTP requests to every page and API endpoint, as a user of each
# kind, by the proxy, and malformed ones (see fuzz_view.c for "~" and @user@)
req() {	# req NAME [~|~~] METHOD TARGET [HEADER...]
	name=$1 pre=$2 method=$3 target=$4
	shift 4
	{
		printf '%s%s %s HTTP/1.1\r\nHost: fuzz\r\n' "$pre" "$method" "$target"
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf '\r\n'
	} > "$S/fuzz_view/$name"
}
post() {	# post NAME BODY [HEADER...]
	name=$1 body=$2
	shift 2
	req "$name" "" POST /login "Content-Type: application/x-www-form-urlencoded" \
		"Content-Length: ${#body}" "$@"
	printf '%s' "$body" >> "$S/fuzz_view/$name"
}
A="Cookie: crmview=@alice@"
B="Cookie: crmview=@bob@"
req root "" GET /
req login "" GET "/login?next=%2Fthreads%2F3"
req style "" GET /static/style.css
req favicon "" HEAD /favicon.ico
req logout "" GET /logout "$A"
req accounts "" GET "/accounts?sort=name&dir=desc&page=1&q=acme" "$A"
req account "" GET /accounts/1 "$A"
req contacts "" GET "/contacts?sort=last&page=2" "$A"
req contact "" GET /contacts/2 "$A"
req deals "" GET /deals "$B"
req deal "" GET /deals/1 "$B"
req thread "" GET "/threads/1?page=1" "$A"
req thread-head "" HEAD /threads/3 "$B"
req unassigned "" GET /unassigned "$A"
req search "" GET "/search?q=forecast+q3&page=1" "$A"
req search-syntax "" GET "/search?q=%22a%22+OR+NEAR(b)+*" "$B"
req mailboxes-admin "" GET /mailboxes "$B"
req mailboxes-member "" GET /mailboxes "$A"
req api-index "" GET /api/ "$A"
req api-me "" GET /api/me "$B"
req api-accounts "" GET "/api/accounts?limit=2&offset=1" "$A"
req api-thread "" GET /api/threads/2 "$B"
req api-search "" GET "/api/search?q=acme&limit=5" "$A"
req api-contact "" GET /api/contacts/1 "$A"
req api-deals "" GET /api/deals "$A"
req api-unassigned "" GET "/api/unassigned?offset=0" "$B"
req api-no-cookie "" GET /api/accounts
req expired "" GET /accounts "Cookie: crmview=@old@"
req no-password "" GET /accounts "Cookie: crmview=@carol@"
req no-user "" GET /accounts "Cookie: crmview=@mallory@"
req forged "" GET /accounts "Cookie: crmview=MXwyMDAwMDAwMDAwfDAxMjM0NTY3ODlhYmNkZWZ8YUBiLmM.AAAA"
req bad-id "" GET /threads/0123 "$A"
req bad-page "" GET "/accounts?page=x1" "$A"
req bad-nul "" GET "/threads/1%00" "$A"
req bad-dots "" GET "/static/../x" "$A"
req bad-method "" DELETE /threads/1 "$A"
req many-args "" GET "/accounts?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&m=13&n=14&o=15&p=16&q=17" "$A"
req proxy-bob "~" GET /threads/1 "X-Remote-User: Bob@Example.com"
req proxy-alice "~" GET /api/search?q=dinner "X-Remote-User: alice@example.com"
req proxy-none "~" GET /accounts
req proxy-untrusted "~~" GET /accounts "X-Remote-User: bob@example.com"
req metrics "" GET /metrics
req metrics-untrusted "~~" GET /metrics
post login-ok "address=alice%40example.com&password=secret&next=%2Fthreads%2F1" "Sec-Fetch-Site: same-origin"
post login-wrong "address=bob%40example.com&password=guess"
post login-unknown "address=nobody%40example.com&password=secret&next=//evil.example/" "Origin: http://fuzz"
post login-cross-site "address=alice%40example.com&password=secret" "Sec-Fetch-Site: cross-site"
echo "seeds: $(find "$S" -type f | wc -l) files in $S"
