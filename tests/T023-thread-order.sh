#!/usr/bin/env bash
# T023-thread-order.sh - the same messages make the same threads whatever
# the order they arrive in (issue 13, point 10).  tests/fixtures/thread-order
# holds a deal thread without reference headers in which the last message
# bridges two people (deal-*), a thread whose replies name their parents
# but whose roots have none (quote-*), placeholder subjects from the same
# person ("Subject Unavailable", "Fwd:", "(no subject)"), which stay apart,
# and a reply whose In-Reply-To names a message the store never saw while
# its References name one it has (slots-*).  Each order is imported into a
# fresh store; what is compared is the partition of Message-IDs into
# threads, with each thread's subject and deal links (thread ids are
# allowed to differ: they are given in order of arrival).
. "$(dirname "$0")/test-lib.sh"

FIX=$CRM_TOP/tests/fixtures/thread-order
printf '[associate]\ndeal single-open\n' > "$TMP/deal.rules"
write_conf "$TMP/c.conf" RulesFile "$TMP/deal.rules"
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }
q() { sqlite3 -readonly "$TMP/store.db" "$@"; }

# partition - one line per thread: its sorted Message-IDs | subject | deal keys
partition() {
	q "select (select group_concat(msgid, ' ') from (select msgid from messages m
	     where m.thread_id = t.id order by msgid))
	   || ' | ' || t.subject || ' | ' || coalesce((select group_concat(key, ' ') from
	     (select d.key from links l join deals d on d.id = l.deal_id
	      where l.thread_id = t.id order by d.key)), '-')
	   from threads t where t.messages > 0" | sort
}

# fresh - an empty store with the deal of Tom and Mia
fresh() {
	rm -f "$TMP"/store.db*
	printf 'key,name,account,contacts\nD-7,Leipzig racking,vulcan-lager.de,tom@vulcan-lager.de;mia@vulcan-lager.de\n' \
		> "$TMP/deals.csv"
	crm deals import "$TMP/deals.csv" > /dev/null
}

# import_order NAME - import the fixtures in the order of the file names on
# stdin, as one folder whose names sort in that order; the partition goes
# to $TMP/NAME.part
import_order() {
	local n=0 f
	rm -rf "$TMP/in"
	mkdir "$TMP/in"
	while read -r f; do
		n=$((n + 1))
		cp "$FIX/$f" "$TMP/in/$(printf '%02d' $n)-$f"
	done
	fresh
	crm import "$TMP/in" > /dev/null 2>&1
	partition > "$TMP/$1.part"
}

ls "$FIX" | grep '\.eml$' | sort > "$TMP/names"
import_order forward < "$TMP/names"
sort -r "$TMP/names" | import_order reverse
for seed in 1 2 3; do
	sort -R --random-source=<(yes "$seed") "$TMP/names" | import_order "shuffle-$seed"
done

# one message an import, newest first: each in its own transaction
fresh
for f in $(sort -r "$TMP/names"); do
	crm import "$FIX/$f" > /dev/null 2>&1
done
partition > "$TMP/one-by-one.part"

S="Pallet racking for the Leipzig warehouse"
cat > "$TMP/want.part" <<EOF
deal-1@vulcan-lager.de deal-2@example.com deal-3@vulcan-lager.de deal-4@example.com | $S | D-7
fwd-1@vulcan-lager.de | Fwd: | D-7
fwd-2@vulcan-lager.de | Fwd: | D-7
hidden-1@vulcan-lager.de | Subject Unavailable | D-7
hidden-2@vulcan-lager.de | Subject Unavailable | D-7
nosubj-1@example.com | (no subject) | D-7
nosubj-2@example.com | (no subject) | D-7
quote-1@vulcan-lager.de quote-2@example.com quote-3@vulcan-lager.de quote-4@example.com | Quote for 40 shelving units | D-7
slots-1@vulcan-lager.de slots-3@example.com | Delivery slots in April | D-7
EOF
check "in file order: deal and quote one thread each, placeholders apart, reply to an unknown joins its References" \
	diff -u "$TMP/want.part" "$TMP/forward.part"
for o in reverse shuffle-1 shuffle-2 shuffle-3 one-by-one; do
	check "$o: the same threads, subjects and deal links as in file order" \
		diff -u "$TMP/forward.part" "$TMP/$o.part"
done

# in the last store (newest first): the merges left one link per deal and
# thread, none to a thread that is gone, and no empty thread
check_equal "no link to a merged-away thread, no empty thread" "0|0" \
	"$(q "select (select count(*) from links where thread_id not in (select id from threads)),
	  (select count(*) from threads where messages = 0)")"
# the reply's unknown parent hangs under the last References id (JWZ)
check_equal "slots-3's parent is slots-2 (unknown), whose parent is slots-1" \
	"slots-2@vulcan-lager.de|slots-1@vulcan-lager.de" \
	"$(q "select c.parent, p.parent from message_ids c join message_ids p on p.msgid = c.parent
	      where c.msgid = 'slots-3@example.com'")"
exit 0
