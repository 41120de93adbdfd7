#!/bin/sh
# deps.sh - install the Debian 12 packages crmilter needs to build and test
#
# deps.sh                    install every package (root), or print the command
# deps.sh --missing          install only when something is missing; silent otherwise
# deps.sh --missing --fuzz   the same for what `make fuzz` needs (clang, libFuzzer)
#
# make test needs BUILD and TEST (debhelper, dpkg-dev: make deb and its test);
# only make fuzz needs FUZZ (clang-14 and
# libclang-rt-14-dev, which holds libclang_rt.fuzzer-x86_64.a).
set -eu

BUILD="build-essential pkg-config libgmime-3.0-dev libpcre2-dev libsqlite3-dev
libzstd-dev libxml2-dev libjansson-dev libpsl-dev libmilter-dev libmicrohttpd-dev
libsodium-dev libcmocka-dev libytnef0-dev"
TEST="sqlite3 python3 valgrind postfix miltertest swaks curl openssl chromium wrk faketime
debhelper dpkg-dev m4 libwrap0 lintian"
FUZZ="clang libclang-rt-14-dev"
PKGS=$(echo $BUILD $TEST)
case "${1:-}${2:-}" in
--missing--fuzz) PKGS=$FUZZ ;;
--missing) ;;
*) PKGS=$(echo $BUILD $TEST $FUZZ) ;;
esac

# Sendmail for tests/S130 (it conflicts with postfix: unpacked, not installed)
sendmail_unpacked() {
	[ "${1:-}${2:-}" != "--missing--fuzz" ] && [ "$(id -u)" -eq 0 ] || return 0
	sh "$(dirname "$0")/sendmail-fetch.sh" ||
		echo "deps: Sendmail could not be unpacked for the tests (S130 will skip)" >&2
}

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done

if [ "${1:-}" = "--missing" ] && [ -z "$missing" ]; then
	sendmail_unpacked "$@"
	exit 0
fi
[ -n "$missing" ] || { echo "deps: all packages installed"; sendmail_unpacked "$@"; exit 0; }

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing"
	echo "deps: as root run: apt-get update && $cmd"
	[ "${1:-}" = "--missing" ] && exit 1
	exit 0
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# postfix: the tests run private instances; leave the system one unconfigured
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
$cmd
sendmail_unpacked "$@"
