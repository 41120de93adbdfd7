#!/usr/bin/env bash
# T020-reimport.sh - importing the same mail again adds nothing; copies of a
# message from mbox and Maildir are one message with several sources
. "$(dirname "$0")/test-lib.sh"

write_conf "$TMP/c.conf"
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }

crm import "$CORPORA/mail" > "$TMP/first"
check_equal "the first import stores 44 messages" "imported 44, duplicates 2, failed 0" "$(cat "$TMP/first")"
crm stats --json > "$TMP/stats1"
cp "$TMP/c.conf" "$TMP/keep.conf"
crm import "$CORPORA/mail" > "$TMP/second"
crm stats --json > "$TMP/stats2"
n=$(find "$CORPORA/mail" -type f | wc -l)
check_equal "a second import finds only duplicates" "imported 0, duplicates $n, failed 0" "$(cat "$TMP/second")"
check "a second import changes no count" cmp "$TMP/stats1" "$TMP/stats2"
sqlite3 "$TMP/store.db" 'select count(*) from message_sources' > "$TMP/src1" 2>/dev/null
crm import "$CORPORA/mail" > /dev/null
sqlite3 "$TMP/store.db" 'select count(*) from message_sources' > "$TMP/src2" 2>/dev/null
check "a third import adds no source rows" cmp "$TMP/src1" "$TMP/src2"

# the same messages again through mbox and Maildir (tests/corpora/README.md):
# the mbox holds 3 copies and 2 new messages, one copy found only by content
# hash; the Maildir 2 copies and a reply that joins the In-Reply-To loop thread
crm import "$CORPORA/mbox/sample.mbox" > "$TMP/mbox"
check_equal "mbox copies are duplicates, new messages are imported" \
	"imported 2, duplicates 3, failed 0" "$(cat "$TMP/mbox")"
crm import "$CORPORA/maildir" > "$TMP/maildir"
check_equal "Maildir copies are duplicates, the new reply is imported" \
	"imported 1, duplicates 2, failed 0" "$(cat "$TMP/maildir")"
loop=$(crm threads | awk '/見積もり依頼/ { print $1 }')
n=$(crm show thread "$loop" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))')
check_equal "the Maildir reply joins the In-Reply-To loop thread" 3 "$n"
crm stats --json > "$TMP/stats3"
check_equal "three new messages in all" 3 "$(python3 -c '
import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:3]); print(b["messages"]-a["messages"])' "$TMP/stats2" "$TMP/stats3")"
