#!/usr/bin/env bash
# T015-mbox-split.sh - an mbox is split only where a message can begin: a
# .eml that starts with a "From " line is one message whatever its body
# holds; in an mbox, an unescaped "From " line inside an attachment still
# open (a git format-patch) or in a sentence ("From 1960 to 1963") does not
# cut the message or make a bogus one
. "$(dirname "$0")/test-lib.sh"

mkdir -p "$TMP/eml" "$TMP/mbox"
patch='From 3f2a9c1b7d Mon Sep 17 00:00:00 2001
From: Erin Dev <erin@acme.com>
Date: Tue, 6 May 2025 08:00:00 +0000
Subject: [PATCH] fix the frobnicator

---
 frob.c | 2 +-
'
{ printf 'From dave@acme.com Tue May  6 09:00:00 2025\nFrom: dave@acme.com\nTo: alice@example.com\n'
  printf 'Subject: The patch inline\nMessage-ID: <split-1@acme.com>\nDate: Tue, 06 May 2025 09:00:00 +0000\n\n'
  printf 'Here it is:\n\n%s\nThanks, Dave\n' "$patch"; } > "$TMP/eml/inline.eml"
{ printf 'From dave@acme.com Tue May  6 10:00:00 2025\nFrom: dave@acme.com\nTo: alice@example.com\n'
  printf 'Subject: The patch attached\nMessage-ID: <split-2@acme.com>\nDate: Tue, 06 May 2025 10:00:00 +0000\n'
  printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="XYZ"\n\n--XYZ\nContent-Type: text/plain\n\nAttached.\n'
  printf -- '--XYZ\nContent-Type: text/x-patch; name="0001-fix.patch"\nContent-Disposition: attachment; filename="0001-fix.patch"\n\n'
  printf '%s' "$patch"; printf -- '--XYZ--\n\n'
  printf 'From dave@acme.com Tue May  6 11:00:00 2025\nFrom: dave@acme.com\nTo: alice@example.com\n'
  printf 'Subject: History\nMessage-ID: <split-3@acme.com>\nDate: Tue, 06 May 2025 11:00:00 +0000\n\n'
  printf 'The plant ran\nFrom 1960 to 1963 the output doubled.\nYear: 1963 was the best.\n\n'
  printf 'From dave@acme.com Tue May  6 12:00:00 2025\nFrom: dave@acme.com\nTo: alice@example.com\n'
  printf 'Subject: Last\nMessage-ID: <split-4@acme.com>\nDate: Tue, 06 May 2025 12:00:00 +0000\n\nBye.\n'; } > "$TMP/mbox/list.mbox"
write_conf "$TMP/c.conf"
check_equal "the .eml is one message" "imported 1, duplicates 0, failed 0" \
	"$("$CRMCTL" -c "$TMP/c.conf" import "$TMP/eml" 2> "$TMP/err1")"
sed 's/^/# /' "$TMP/err1" | head -3
check_equal "the mbox gives its three messages" "imported 3, duplicates 0, failed 0" \
	"$("$CRMCTL" -c "$TMP/c.conf" import "$TMP/mbox" 2> "$TMP/err2")"
sed 's/^/# /' "$TMP/err2" | head -3
q() { sqlite3 -readonly "$TMP/store.db" "$1"; }
check_equal "no bogus message was made from a body" "split-1@acme.com split-2@acme.com split-3@acme.com split-4@acme.com" \
	"$(q "select msgid from messages order by msgid" | tr '\n' ' ' | sed 's/ $//')"
"$CRMCTL" -c "$TMP/c.conf" export --format jsonl > "$TMP/all.jsonl" 2> /dev/null
check "the inline patch stays in its message's text, to its last line" \
	grep -q '"message_id":"split-1@acme.com".*fix the frobnicator.*Thanks, Dave' "$TMP/all.jsonl"
check_equal "the attached patch is one whole attachment" "0001-fix.patch" \
	"$(q "select a.filename from attachments a join messages m on m.id = a.message_id where m.msgid = 'split-2@acme.com'")"
exit 0
