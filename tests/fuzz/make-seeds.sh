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
mkdir -p "$S/fuzz_mail_parse" "$S/fuzz_mail_source" "$S/fuzz_conf" "$S/fuzz_spool"

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
echo "seeds: $(find "$S" -type f | wc -l) files in $S"
