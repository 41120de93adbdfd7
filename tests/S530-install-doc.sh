#!/usr/bin/env bash
# S530-install-doc.sh - INSTALL.md, pasted as it stands, gives live mail on records
#
# The commands of INSTALL.md are taken from the file itself: its
# `make install` line, and every code block that follows an
# `<!-- install-test: run -->` marker, in order.  They run as root in a
# private machine made of namespaces: its own network (so Postfix listens
# on port 25 of its own loopback), its own /etc (a copy: useradd,
# /etc/crmilter and /etc/postfix land there), and empty /usr/local, /var
# and /run, with a Postfix set up the way Debian ships it (master.cf.dist:
# smtpd and cleanup chrooted in /var/spool/postfix).  Then one message
# comes in from an outside address and one goes out from loopback (an
# InternalHosts address): both must be delivered, stored with their
# direction, and counted by crmctl status.  Nothing of the host's is read
# or changed; every process ends with the namespace.
. "$(dirname "$0")/test-lib.sh"

for tool in unshare postfix smtp-sink python3 sqlite3 ip; do
	if ! command -v "$tool" > /dev/null; then
		skip "INSTALL.md as pasted" "no $tool"
		exit 0
	fi
done
if [ "$(id -u)" -ne 0 ] || [ ! -f /usr/share/postfix/master.cf.dist ] ||
	! unshare --mount --net --pid --fork true 2> /dev/null; then
	skip "INSTALL.md as pasted" "needs root, Debian's Postfix and namespaces"
	exit 0
fi

# the blocks to run, from INSTALL.md itself
python3 - "$CRM_TOP/INSTALL.md" "$TMP/blocks" <<'PY'
import os, sys
lines = open(sys.argv[1]).read().split("\n")
out, n, i = sys.argv[2], 0, 0
os.makedirs(out)
while i < len(lines):
    if lines[i].strip() == "<!-- install-test: run -->":
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        block = []
        while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
            block.append(lines[i][4:])
            i += 1
        n += 1
        open(os.path.join(out, "%02d.sh" % n), "w").write("\n".join(block).rstrip() + "\n")
    else:
        i += 1
PY
nblocks=$(ls "$TMP/blocks" | wc -l)
check "INSTALL.md marks the blocks to run ($nblocks)" test "$nblocks" -ge 4
make_install=$(sed -n 's/^    \(make install\)\( .*\)\{0,1\}$/\1/p' "$CRM_TOP/INSTALL.md" | head -1)
check_equal "INSTALL.md builds with make install" "make install" "$make_install"

chmod 711 "$TMP"	# the sink writes as postfix under it
# the private machine: a copy of /etc without crmilter's or Postfix's configuration
cp -a /etc "$TMP/etc"
rm -rf "$TMP/etc/crmilter" "$TMP/etc/postfix/main.cf" "$TMP/etc/postfix/master.cf"
for f in passwd group shadow gshadow; do	# a new machine has no crmilter user yet
	[ -f "$TMP/etc/$f" ] && sed -i '/^crmilter:/d' "$TMP/etc/$f"
done
mkdir -p "$TMP/etc/postfix" "$TMP/res"

cat > "$TMP/inner.sh" <<'INNER'
# inner.sh TMP TOP BUILD - runs as PID 1 of the private machine
set -u
TMP=$1 TOP=$2 BUILD=$3
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "$*" >> "$TMP/res/result"; }
ip link set lo up
ip addr add 192.0.2.10/32 dev lo
mount --bind "$TMP/etc" /etc
for d in /usr/local /var/spool /var/lib /var/log /run; do mount -t tmpfs -o mode=0755 tmpfs "$d"; done
mkdir -p /var/lib/postfix /var/spool/postfix /run/lock
chown postfix /var/lib/postfix

# Postfix as Debian ships it, relaying to a sink on this private loopback
cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
# Debian's master.cf (smtpd, cleanup... chrooted) less the pipe services,
# whose users and programs this machine does not have
awk '/^[#[:space:]]/ || NF == 0 { if (!skip) print; next }
	{ skip = 0 }
	$2 == "unix" && ($NF == "pipe" || $8 == "pipe") { skip = 1; next }
	$1 == "maildrop" || $1 == "uucp" || $1 == "ifmail" || $1 == "bsmtp" ||
	$1 == "scalemail-backend" || $1 == "mailman" { skip = 1; next }
	{ print }' /usr/share/postfix/master.cf.dist > /etc/postfix/master.cf
postconf -e myhostname=mx.example.com mydomain=example.com mydestination= \
	relay_domains=example.com 'relayhost=[127.0.0.1]:2525' 'mynetworks=127.0.0.0/8' \
	inet_interfaces=all inet_protocols=ipv4 maillog_file=/var/log/postfix.log \
	alias_maps= alias_database= smtpd_tls_security_level=none smtp_tls_security_level=none \
	smtpd_tls_cert_file= smtpd_tls_key_file= compatibility_level=3.6 \
	'smtpd_relay_restrictions=permit_mynetworks reject_unauth_destination'
mkdir -p /var/spool/postfix/etc
for f in localtime services resolv.conf hosts nsswitch.conf host.conf; do
	[ -e "/etc/$f" ] && cp "/etc/$f" /var/spool/postfix/etc/
done
mkdir -p "$TMP/sink" && chown postfix "$TMP/sink"
smtp-sink -u postfix -d "$TMP/sink/%M%S." 127.0.0.1:2525 100 > /dev/null 2>&1 &
postfix start > "$TMP/res/postfix-start" 2>&1 && say "postfix-started"

# INSTALL.md: make install, then each marked block, as pasted
cd "$TOP" || exit 1
BUILD=$BUILD make install > "$TMP/res/make-install" 2>&1 && say "make-install-ok"
for b in "$TMP"/blocks/*.sh; do
	if bash -e "$b" > "$TMP/res/$(basename "$b").out" 2>&1; then say "block-ok $(basename "$b")"
	else say "block-failed $(basename "$b")"; fi
done

# one message in from outside, one out from loopback
python3 - <<'PY' > "$TMP/res/send" 2>&1
import smtplib, time
def send(src, mid, sender, rcpt):
    msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\n"
           "Date: Tue, 06 May 2025 12:00:00 +0000\r\n\r\nHello.\r\n") % (sender, rcpt, mid, mid)
    s = smtplib.SMTP("127.0.0.1", 25, source_address=(src, 0), timeout=30)
    s.sendmail(sender, [rcpt], msg)
    s.quit()
    print("sent", mid)
send("192.0.2.10", "in-1@client.example", "carl@client.example", "alice@example.com")
send("127.0.0.1", "out-1@example.com", "alice@example.com", "carl@client.example")
PY
grep -q "sent out-1" "$TMP/res/send" && say "sent"
i=0
while [ $i -lt 150 ]; do
	n=$(sqlite3 -readonly /var/lib/crmilter/crmilter.db "select count(*) from messages" 2> /dev/null)
	[ "${n:-0}" -ge 2 ] && break
	sleep 0.2; i=$((i + 1))
done
sqlite3 -readonly /var/lib/crmilter/crmilter.db \
	"select msgid || ' ' || direction || ' ' || log from messages order by msgid" > "$TMP/res/stored" 2>&1
i=0
while [ "$(ls "$TMP/sink" | wc -l)" -lt 2 ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
ls "$TMP/sink" | wc -l > "$TMP/res/delivered"
crmctl status > "$TMP/res/status" 2>&1
cp /var/log/postfix.log "$TMP/res/postfix.log" 2> /dev/null
postfix stop > /dev/null 2>&1
kill "$(cat /run/crmilter/crmilter.pid 2> /dev/null)" 2> /dev/null
sleep 0.5
INNER

unshare --mount --net --pid --fork --mount-proc bash "$TMP/inner.sh" "$TMP" "$CRM_TOP" "$CRM_BUILD" \
	> "$TMP/inner.log" 2>&1
touch "$TMP/res/result"
check_grep "a Debian-like Postfix starts in the private machine" "^postfix-started$" "$TMP/res/result"
check_grep "INSTALL.md's make install works" "^make-install-ok$" "$TMP/res/result"
for b in "$TMP"/blocks/*.sh; do
	name=$(basename "$b")
	if grep -q "^block-ok $name$" "$TMP/res/result"; then
		ok "INSTALL.md block $name runs as pasted ($(head -1 "$b"))"
	else
		notok "INSTALL.md block $name runs as pasted"
		sed 's/^/#   /' "$b"
		sed 's/^/# > /' "$TMP/res/$name.out" 2> /dev/null | head -20
	fi
done
check_grep "a message comes in and one goes out" "^sent$" "$TMP/res/result"
check_equal "Postfix delivers both" "2" "$(cat "$TMP/res/delivered" 2> /dev/null)"
check_equal "both are on records with their direction" \
	"in-1@client.example inbound logged
out-1@example.com outbound logged" "$(cat "$TMP/res/stored" 2> /dev/null)"
check_grep "crmctl status is OK and counts them" "^CRMILTER OK - crmilter running" "$TMP/res/status"
if ! grep -q "^CRMILTER OK" "$TMP/res/status" || [ "$(cat "$TMP/res/delivered" 2> /dev/null)" != 2 ]; then
	sed 's/^/# status: /' "$TMP/res/status" 2> /dev/null | head
	tail -20 "$TMP/res/postfix.log" 2> /dev/null | sed 's/^/# postfix: /'
	sed 's/^/# /' "$TMP/inner.log" | head -20
fi
exit 0
