#!/usr/bin/env bash
# T018-dates.sh - Date headers as real mail writes them: a 12-hour time with
# PM or AM is read on the 24-hour clock; a zone such as EST5EDT gets its
# offset on that day (summer and winter) from the time zone database, not
# +0000; a comment never closed is cut and the record says so, instead of a
# silent guess
. "$(dirname "$0")/test-lib.sh"

mkdir -p "$TMP/m"
i=0
while IFS='|' read -r date want; do
	i=$((i + 1))
	printf 'From: a@acme.com\nTo: b@example.com\nSubject: d%s\nMessage-ID: <date-%s@acme.com>\nDate: %s\n\nx\n' \
		"$i" "$i" "$date" > "$TMP/m/$i.eml"
	echo "d$i|$want" >> "$TMP/want"
done << 'EOF2'
Wed 29 May 2019 06:09:22 PM EDT|2019-05-29 22:09:22
Wed, 29 May 2019 6:09:22 pm -0400|2019-05-29 22:09:22
Wed, 29 May 2019 12:30:00 AM +0000|2019-05-29 00:30:00
Wed, 29 May 2019 18:09:22 EST5EDT|2019-05-29 22:09:22
Tue, 15 Jan 2019 18:09:22 EST5EDT|2019-01-15 23:09:22
Tue, 6 May 2025 (sent 09:00:00 +0000|2025-05-06 00:00:00
EOF2
write_conf "$TMP/c.conf"
"$CRMCTL" -c "$TMP/c.conf" import "$TMP/m" > /dev/null 2>&1
sqlite3 -readonly "$TMP/store.db" "select subject || '|' || datetime(date, 'unixepoch') from messages order by subject" > "$TMP/got"
while IFS='|' read -r subj want; do
	check_equal "$(sed -n "s/^Date: //p" "$TMP/m/${subj#d}.eml") is $want UTC" "$subj|$want" "$(grep "^$subj|" "$TMP/got")"
done < "$TMP/want"
"$CRMCTL" -c "$TMP/c.conf" export --format jsonl > "$TMP/all.jsonl" 2> /dev/null
check "the Date with a comment never closed carries a warning" \
	grep -q '"message_id":"date-6@acme.com".*"warnings":\["Date has a comment that is never closed' "$TMP/all.jsonl"
exit 0
