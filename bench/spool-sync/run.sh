#!/usr/bin/env bash
# run.sh - what the spool's durable commit costs Postfix's throughput
#
# Builds the checkout's HEAD twice, from two copies in a temporary folder
# (the checkout is not touched): as it is, and with journal.patch applied.
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
#   defaults: --sizes "2k 20k" --long 0, before the options given
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/crm-spool-sync.XXXXXX)
trap 'rm -rf "$W"' EXIT
for v in shipped patched; do
	git -C "$TOP" archive HEAD | tar -x -C "$W" --one-top-level=$v
	if [ $v = patched ]; then
		patch -s -d "$W/$v" -p1 < "$TOP/bench/spool-sync/journal.patch"
	fi
	make -s -C "$W/$v" BUILD="$W/build-$v" "$W/build-$v/crmilter" > /dev/null
done
CRM_BUILD=$W/build-shipped "$TOP/bench/mta.sh" --sizes "2k 20k" --long 0 "$@" \
	--also "journal=$W/build-patched" \
	--also "nosync=$W/build-patched:CRM_EXPERIMENT_SPOOL=nosync"
