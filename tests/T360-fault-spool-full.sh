#!/usr/bin/env bash
# T360-fault-spool-full.sh - the spool is full, both ways, while the store is
# locked so nothing drains:
#  - MaxSpoolSize reached: new messages are spooled headers-only (flagged
#    truncated) and still logged;
#  - the spool's disk full (a 1 MB tmpfs made by the test): a message that
#    cannot be spooled passes unlogged, no half-written file stays behind.
# Postfix delivers 100%; every message crmilter accepted (spooled) is in the
# store exactly once after recovery.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "spool full"
SPOOL_DIR=$TMP/spoolfs
if ! fault_mount "$SPOOL_DIR" 1m; then
	skip "spool full" "cannot mount a tmpfs here"
	exit 0
fi
fault_setup MaxSpoolSize 100k

store_lock held
check "phase 1 (MaxSpoolSize 100k): 60 messages of 20 KB are sent" send hdr 60 --clients 4 --sizes 20k:1
check_delivered hdr
check_grep "crmilter warns that the spool is over MaxSpoolSize" 'over MaxSpoolSize' "$LOG"
check "the spool's disk is not full: headers-only kept it small" \
	test "$(df --output=avail -B1 "$SPOOL_DIR" | tail -1)" -gt 200000
sed -i 's/^MaxSpoolSize .*/MaxSpoolSize 1G/' "$CONF"
kill -HUP "$CRM_PID"
wait_for 10 grep -q 'configuration reloaded' "$LOG"
check "phase 2 (MaxSpoolSize 1G, 1 MB disk): 120 messages of 20 KB are sent" send spool 120 --clients 4 --sizes 20k:1
check_delivered spool
check_grep "crmilter logs messages it could not spool as passed unlogged" \
	'cannot spool the message, it passes unlogged' "$LOG"
check_equal "no half-written file is left in tmp/" 0 "$(ls "$SPOOL_DIR/tmp" | wc -l)"
accepted_ids spool > "$TMP/spool.accepted"
n_acc=$(wc -l < "$TMP/spool.accepted")
n_new=$(ls "$SPOOL_DIR/new" | wc -l)
check_equal "every message spooled is in new/" $((n_acc + 60)) "$n_new"
if [ "$n_acc" -gt 5 ] && [ "$n_acc" -lt 120 ]; then
	ok "some messages were spooled ($n_acc), the rest passed unlogged"
else
	notok "some messages spooled, the rest passed unlogged ($n_acc of 120 spooled)"
fi

store_unlock held
kill -HUP "$CRM_PID"
check "the worker drains the spool" wait_spool_empty 60
check_stored_once hdr
check_stored_once spool "$TMP/spool.accepted"
check "messages spooled over MaxSpoolSize are stored headers-only, flagged truncated" \
	test "$(q "select count(*) from messages where msgid like 'hdr-%' and flags & 8")" -gt 0
check_equal "nothing failed" 0 "$(ls "$SPOOL_DIR/failed" | wc -l)"
