#!/usr/bin/env bash
# run.sh - what the spool's durable commit costs Postfix's throughput
#
# Builds this checkout twice: as it is, and with journal.patch applied (a
# copy of the source in a temporary folder; the checkout is not touched).
# Then runs bench/mta.sh with two more configurations interleaved with
# none, null and crmilter:
#   journal   the patched build: each commit appended to a preallocated
#             journal, one group-committed fdatasync() instead of the
#             file's fdatasync() and the fsync() of new/
#   nosync    the patched build with CRM_EXPERIMENT_SPOOL=nosync: no sync
#             at all (not durable: the upper bound of any commit scheme)
# and prints each one's throughput against the null milter.
#
# usage: bench/spool-sync/run.sh [bench/mta.sh options]
#   default options: --sizes "2k 20k" --long 0
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/crm-spool-sync.XXXXXX)
trap 'rm -rf "$W"' EXIT
git -C "$TOP" archive HEAD | tar -x -C "$W" --one-top-level=src
patch -s -d "$W/src" -p1 < "$TOP/bench/spool-sync/journal.patch"
make -s -C "$W/src" BUILD="$W/build" "$W/build/crmilter" > /dev/null
make -s -C "$TOP" > /dev/null
[ $# -eq 0 ] && set -- --sizes "2k 20k" --long 0
"$TOP/bench/mta.sh" "$@" --also "journal=$W/build" --also "nosync=$W/build:CRM_EXPERIMENT_SPOOL=nosync"
