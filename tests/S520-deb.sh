#!/usr/bin/env bash
# S520-deb.sh - the Debian package on this machine: make deb (debhelper),
# lintian, dpkg -i, its files, user and permissions, the installed crmilter
# started the way crmilter.service starts it against a private Postfix, one
# message logged and seen by the installed crmctl status, a clean stop;
# then the life cycle: an upgrade to a higher version with crmilter running
# (it runs the new binary afterwards), dpkg -r stops crmilter and crmview
# and keeps the data, dpkg --purge keeps the store by default (debconf) and
# leaves nothing else, and removes the store when the answer says so.
# Slow (a full build from a copy of the tree): make test-slow runs it.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v dh > /dev/null || ! command -v dpkg-buildpackage > /dev/null ||
	! command -v postfix > /dev/null || ! command -v smtp-sink > /dev/null ||
	! command -v python3 > /dev/null; then
	skip "the Debian package" "needs root, debhelper, dpkg-dev, postfix, smtp-sink and python3"
	exit 0
fi
# pkg_known - dpkg holds crmilter installed, half-installed or as config-files
pkg_known() { dpkg-query -W -f='${Status}' crmilter 2> /dev/null | grep -Eq 'ok (installed|config-files|half)'; }
if pkg_known; then
	skip "the Debian package" "a crmilter package is installed here already: not touching it"
	exit 0
fi
if [ -e /run/crmilter ] || [ -e /var/lib/crmilter ] || [ -e /var/spool/crmilter ] || [ -e /etc/crmilter ] ||
	[ -e /var/spool/postfix/crmilter ]; then
	skip "the Debian package" "/run, /var/lib, /var/spool, /var/spool/postfix or /etc/crmilter exists: not touching it"
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive

PF=$TMP/postfix
PID=
VPID=
INSTALLED=
# purge_answer true|false - what the purge question will be answered
purge_answer() { echo "crmilter crmilter/purge_store boolean $1" | debconf-set-selections; }
cleanup() {
	pf_stop "$PF"
	[ -n "$PID" ] && kill -KILL "$PID" 2> /dev/null
	[ -n "$VPID" ] && kill -KILL "$VPID" 2> /dev/null
	sink_stop
	if [ -n "$INSTALLED" ]; then
		purge_answer true
		dpkg --purge crmilter > /dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

chmod 711 "$TMP"	# Postfix's own users walk into it

# ---- build (CRM_DEB=FILE tests a package built before instead) ----
start=$(date +%s)
if [ -n "${CRM_DEB:-}" ]; then
	DEB=$CRM_DEB
	skip "make deb builds the package" "CRM_DEB=$CRM_DEB given"
else
	mkdir -p "$TMP/b"
	touch "$TMP/b/crmilter_0.0.1_amd64.deb"	# an older build
	make -C "$CRM_TOP" --no-print-directory BUILD="$TMP/b" deb > "$TMP/build.log" 2>&1
	DEB=$(ls "$TMP/b"/crmilter_*.deb 2> /dev/null | grep -v _0.0.1_ | head -1)
	if [ -z "$DEB" ]; then
		notok "make deb builds the package"; tail -30 "$TMP/build.log" | sed 's/^/# /'; exit 1
	fi
	ok "make deb builds $(basename "$DEB") ($(($(date +%s) - start)) s)"
	check_equal "it is the only crmilter_*.deb in the build folder (dpkg -i build/crmilter_*.deb)" \
		1 "$(ls "$TMP/b"/crmilter_*.deb | wc -l)"
	check "the source tree is left clean (no debian/build, no debian/crmilter)" \
		test ! -e "$CRM_TOP/debian/build" -a ! -e "$CRM_TOP/debian/crmilter"
fi
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's#^\./#/#' > "$TMP/files"
for f in /usr/sbin/crmilter /usr/sbin/crmctl /usr/sbin/crmview /etc/crmilter/crmilter.conf \
	 /etc/crmilter/rules /etc/crmilter/freemail-domains.txt /lib/systemd/system/crmilter.service \
	 /lib/systemd/system/crmview.service /usr/share/man/man8/crmilter.8.gz \
	 /usr/share/man/man8/crmctl.8.gz /usr/share/man/man8/crmview.8.gz \
	 /usr/share/man/man5/crmilter.conf.5.gz /usr/share/man/man5/crmilter-rules.5.gz \
	 /usr/share/doc/crmilter/README.Debian /usr/share/doc/crmilter/copyright \
	 /usr/share/doc/crmilter/examples/postfix/main.cf /usr/share/doc/crmilter/examples/postfix/master.cf \
	 /usr/share/doc/crmilter/examples/sendmail/crmilter.mc; do
	check_grep "the package holds $f" "^$f\$" "$TMP/files"
done
if command -v lintian > /dev/null; then
	lintian --pedantic "$DEB" > "$TMP/lintian" 2>&1
	rc=$?
	grep -v '^running with root privileges' "$TMP/lintian" > "$TMP/lintian.tags"
	check_equal "lintian --pedantic finds nothing (overrides have their reasons)" "0 " \
		"$rc $(cat "$TMP/lintian.tags")"
else
	skip "lintian --pedantic finds nothing" "needs lintian"
fi
dpkg-deb -I "$DEB" conffiles > "$TMP/conffiles" 2>&1
check_equal "/etc/crmilter holds the conffiles" \
	"/etc/crmilter/crmilter.conf /etc/crmilter/freemail-domains.txt /etc/crmilter/rules" \
	"$(sort "$TMP/conffiles" | tr '\n' ' ' | sed 's/ $//')"
check "the package has no /var/lib or /var/spool files (the data is made at install)" \
	sh -c "! grep -q '^/var/' '$TMP/files'"

# ---- install ----
mta_sum=$(cat /etc/postfix/main.cf /etc/postfix/master.cf 2> /dev/null | sha256sum)
dpkg -i "$DEB" > "$TMP/dpkg.log" 2>&1
rc=$?
INSTALLED=1
check_equal "dpkg -i installs it" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$TMP/dpkg.log"
check_equal "the installed crmilter runs" "crmilter 0.1.0" "$(/usr/sbin/crmilter -V)"
check "the crmilter user exists, a system user" \
	sh -c '[ "$(id -u crmilter)" -lt 1000 ]'
check_equal "the store directory: crmilter, 0750" "crmilter 750" "$(stat -c '%U %a' /var/lib/crmilter)"
check_equal "the spool directory: crmilter, 0750" "crmilter 750" "$(stat -c '%U %a' /var/spool/crmilter)"
check_equal "/run/crmilter: crmilter, 0750" "crmilter 750" "$(stat -c '%U %a' /run/crmilter)"
if [ -d /var/spool/postfix ] && getent group postfix > /dev/null; then
	check_equal "the socket directory in Postfix's queue: crmilter:postfix, 0750" "crmilter postfix 750" \
		"$(stat -c '%U %G %a' /var/spool/postfix/crmilter)"
fi
check_grep "crmilter.service may write the socket directory" \
	"^ReadWritePaths=.* -/var/spool/postfix/crmilter" /lib/systemd/system/crmilter.service
check_grep "crmilter.service points at the man pages" "^Documentation=man:crmilter(8)" \
	/lib/systemd/system/crmilter.service
check_grep "the Postfix example names the socket relative to the queue directory" \
	"^smtpd_milters = unix:crmilter/crmilter.sock$" /usr/share/doc/crmilter/examples/postfix/main.cf
check_grep "crmilter.conf names the socket that goes with it" \
	"^#   Socket local:/var/spool/postfix/crmilter/crmilter.sock$" /etc/crmilter/crmilter.conf
check_equal "the configuration is root's, readable" "root 644" "$(stat -c '%U %a' /etc/crmilter/crmilter.conf)"
check_grep "crmilter.conf points at the free-mail list in /etc" \
	"^FreemailDomains *\/etc\/crmilter\/freemail-domains.txt$" /etc/crmilter/crmilter.conf
check_equal "the built-in free-mail path leads to the same list" /etc/crmilter/freemail-domains.txt \
	"$(readlink -f /usr/share/crmilter/freemail-domains.txt)"
check_grep "crmilter.service runs /usr/sbin/crmilter" \
	"^ExecStart=/usr/sbin/crmilter -f -s -c /etc/crmilter/crmilter.conf$" /lib/systemd/system/crmilter.service
check_grep "crmview.service runs /usr/sbin/crmview as crmilter" \
	"^ExecStart=/usr/sbin/crmview -c /etc/crmilter/crmilter.conf" /lib/systemd/system/crmview.service
check_equal "man finds crmilter(8)" /usr/share/man/man8/crmilter.8.gz "$(man -w 8 crmilter 2> /dev/null)"
check_equal "the MTA's configuration is untouched" "$mta_sum" \
	"$(cat /etc/postfix/main.cf /etc/postfix/master.cf 2> /dev/null | sha256sum)"
dpkg -i "$DEB" > "$TMP/dpkg2.log" 2>&1
check_equal "installing again over itself works (postinst is idempotent)" 0 $?

# ---- run it as crmilter.service does, against a private Postfix ----
echo "Domains example.com" >> /etc/crmilter/crmilter.conf
# RuntimeDirectory=crmilter (0750), ExecStartPre, UMask=0027, ExecStart
install -d -m 0750 /run/crmilter
# (a leading "-" is systemd's "a failure is fine")
sed -n 's/^ExecStartPre=-\{0,1\}//p' /lib/systemd/system/crmilter.service > "$TMP/pre"
while read -r pre; do $pre; done < "$TMP/pre"
exe=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/crmilter.service)
(umask 0027; exec $exe) > "$TMP/crmilter.log" 2>&1 &
PID=$!
i=0; while [ ! -S /run/crmilter/crmilter.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "the installed crmilter listens on /run/crmilter/crmilter.sock" test -S /run/crmilter/crmilter.sock
check_equal "it runs as the crmilter user" "$(id -u crmilter)" \
	"$(awk '/^Uid:/ { print $2 }' "/proc/$PID/status" 2> /dev/null)"
SMTP=$(free_port); SUB=$(free_port); SINK=$(free_port)
pf_setup "$PF" "$SMTP" "$SUB" "$SINK" "unix:/run/crmilter/crmilter.sock"
sink_start "$TMP/sink" "$SINK"
if pf_start "$PF"; then ok "the private Postfix starts"; else
	notok "the private Postfix starts"; sed 's/^/# /' "$PF/log/start.out"; fi
python3 "$CRM_TOP/tests/milter/send.py" "$SMTP" 1 deb --from dave@acme.com --to alice@example.com \
	--out "$TMP/sent" > "$TMP/send.log" 2>&1
check_equal "Postfix accepts one message" 1 "$(wc -l < "$TMP/sent" 2> /dev/null)"
i=0
until /usr/sbin/crmctl status > "$TMP/status" 2>&1 && grep -q "^total: *1 logged" "$TMP/status"; do
	[ $i -ge 150 ] && break
	sleep 0.2; i=$((i + 1))
done
check_grep "the installed crmctl status says OK" "^CRMILTER OK - crmilter running" "$TMP/status"
check_grep "and counts the message logged in the last hour" "^last hour:  1 logged, 0 skipped$" "$TMP/status"
check_equal "the store is crmilter's, 0640" "crmilter 640" "$(stat -c '%U %a' /var/lib/crmilter/crmilter.db)"
check "Postfix delivered it" pf_wait_empty "$PF" 30
kill -TERM "$PID"
wait "$PID" 2> /dev/null
PID=
pf_stop "$PF"
sink_stop
check "a clean stop leaves no pid file and no socket" \
	test ! -e /run/crmilter/crmilter.pid -a ! -e /run/crmilter/crmilter.sock

# ---- upgrade to a higher version with crmilter running ----
# the same package as version $V2, repacked: what is tested is the scripts
V2=$(dpkg-deb -f "$DEB" Version)+s520
rm -rf "$TMP/v2" && dpkg-deb -R "$DEB" "$TMP/v2"
sed -i "s/^Version: .*/Version: $V2/" "$TMP/v2/DEBIAN/control"
dpkg-deb --root-owner-group -b "$TMP/v2" "$TMP/crmilter_v2.deb" > /dev/null
# started as on a host without systemd: in the background, with its pid file
if [ -d /run/systemd/system ]; then
	skip "the upgrade restarts crmilter" "systemd runs here: the unit would be restarted instead"
else
	(umask 0027; /usr/sbin/crmilter -c /etc/crmilter/crmilter.conf) > "$TMP/crmilter2.log" 2>&1
	i=0; while [ ! -S /run/crmilter/crmilter.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	old=$(cat /run/crmilter/crmilter.pid 2> /dev/null)
	PID=$old
	dpkg -i "$TMP/crmilter_v2.deb" > "$TMP/dpkg5.log" 2>&1
	check_equal "dpkg -i of version $V2 upgrades it" "0 $V2" "$? $(dpkg-query -W -f='${Version}' crmilter)"
	i=0; while [ ! -S /run/crmilter/crmilter.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	new=$(cat /run/crmilter/crmilter.pid 2> /dev/null)
	PID=$new
	check "the old crmilter is gone" test -n "$old" -a ! -d "/proc/$old"
	check_equal "a crmilter runs the new binary" /usr/sbin/crmilter "$(readlink "/proc/$new/exe")"
	check_equal "with the same arguments" "/etc/crmilter/crmilter.conf" \
		"$(tr '\0' ' ' < "/proc/$new/cmdline" | sed 's/^[^ ]* -c \([^ ]*\) $/\1/')"
	check "and listens again" test -S /run/crmilter/crmilter.sock
fi
# crmview, started by hand as the unit would, must stop on remove too
VPORT=$(free_port)
setpriv --reuid crmilter --regid crmilter --init-groups \
	/usr/sbin/crmview -c /etc/crmilter/crmilter.conf -l "127.0.0.1:$VPORT" -s > "$TMP/crmview.log" 2>&1 &
VPID=$!
i=0; while ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $VPORT), 1)" 2> /dev/null &&
	[ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "the installed crmview runs" test -d "/proc/$VPID"

# ---- remove keeps the data, purge removes it ----
dpkg -r crmilter > "$TMP/dpkg3.log" 2>&1
check_equal "dpkg -r removes it" 0 $?
check "the programs are gone" test ! -e /usr/sbin/crmilter -a ! -e /usr/sbin/crmctl -a ! -e /usr/sbin/crmview
# gone PID - the process is no more (or a zombie: this shell is crmview's parent)
gone() { [ ! -d "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2> /dev/null; }
# (prerm waits for them: a short look is enough, and never hangs)
i=0; while ! gone "$VPID" && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
if [ -n "$PID" ]; then
	if gone "$PID"; then ok "remove stopped crmilter"; PID=; else notok "remove stopped crmilter"; fi
fi
if gone "$VPID"; then
	ok "remove stopped crmview"
	wait "$VPID" 2> /dev/null
	VPID=
else
	notok "remove stopped crmview"
fi
check "the store stays after remove" test -s /var/lib/crmilter/crmilter.db
check "the configuration stays after remove" test -f /etc/crmilter/crmilter.conf
dpkg --purge crmilter > "$TMP/dpkg4.log" 2>&1
check_equal "dpkg --purge purges it" 0 $?
check "purge keeps the store by default (debconf crmilter/purge_store false)" \
	test -s /var/lib/crmilter/crmilter.db
check_grep "and says so" "the store /var/lib/crmilter is kept" "$TMP/dpkg4.log"
for d in /etc/crmilter /var/spool/crmilter /run/crmilter /var/spool/postfix/crmilter /usr/share/crmilter \
	 /usr/share/doc/crmilter /lib/systemd/system/crmilter.service /lib/systemd/system/crmview.service; do
	check "purge leaves no $d" test ! -e "$d"
done
if pkg_known; then notok "dpkg knows the package no more"; else ok "dpkg knows the package no more"; fi

# ---- installed again it finds the store; purge answered "remove" removes it ----
dpkg -i "$DEB" > "$TMP/dpkg6.log" 2>&1
check_equal "installing it again works" 0 $?
check_equal "and finds the store, still crmilter's" "crmilter 640" \
	"$(stat -c '%U %a' /var/lib/crmilter/crmilter.db 2> /dev/null)"
purge_answer true
dpkg --purge crmilter > "$TMP/dpkg7.log" 2>&1
check_equal "dpkg --purge with the answer \"remove the store\"" 0 $?
INSTALLED=
for d in /etc/crmilter /var/lib/crmilter /var/spool/crmilter /run/crmilter /var/spool/postfix/crmilter; do
	check "that purge leaves no $d" test ! -e "$d"
done
check "debconf forgets the answer with the package" \
	sh -c "! debconf-show crmilter 2> /dev/null | grep -q purge_store"
