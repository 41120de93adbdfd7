#!/bin/sh
# sendmail-fetch.sh - Debian's Sendmail, unpacked (not installed), for the tests
#
# usage: build-aux/sendmail-fetch.sh [DIR]
#
# Debian's sendmail packages conflict with postfix, which the tests need,
# so tests/T130-milter-sendmail.sh runs the Sendmail binary and cf macros
# from sendmail-bin and sendmail-cf unpacked into DIR (default
# /var/cache/crmilter-test/sendmail): DIR/usr/libexec/sendmail/sendmail and
# DIR/usr/share/sendmail/cf.  Downloads with apt-get (root) the first
# time; does nothing when DIR is complete.  Runtime needs (m4, libwrap0)
# come from deps.sh.
set -eu
DIR=${1:-/var/cache/crmilter-test/sendmail}
if [ -x "$DIR/usr/libexec/sendmail/sendmail" ] && [ -f "$DIR/usr/share/sendmail/cf/m4/cf.m4" ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "sendmail-fetch: run as root once to unpack Sendmail into $DIR" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
(cd "$tmp" && apt-get download sendmail-bin sendmail-cf > /dev/null 2>&1) || {
	echo "sendmail-fetch: apt-get download sendmail-bin sendmail-cf failed (apt-get update?)" >&2
	exit 1
}
mkdir -p "$DIR"
for f in "$tmp"/*.deb; do
	dpkg-deb -x "$f" "$DIR"
done
echo "sendmail-fetch: Sendmail unpacked into $DIR"
