#!/usr/bin/env bash
# T420-forget.sh - crmctl forget: a person (priya@globex.co.uk) and a company
# (@initech.de) are erased from a store built from tests/corpora/mail; the
# dry run changes nothing; afterwards no byte of the address or the display
# name is left in the database files, the index finds nothing, the audit row
# holds counts only, and importing the same mail again captures nobody
. "$(dirname "$0")/test-lib.sh"

if ! command -v sqlite3 > /dev/null; then
	skip "forget" "needs sqlite3"
	exit 0
fi
write_conf "$TMP/c.conf"
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }
DB=$TMP/store.db
q() { sqlite3 "$DB" "$@"; }
# bytes ADDR - how many lines of the database files (and -wal, -shm) hold ADDR, any case
bytes() {
	cat "$DB" "$DB-wal" "$DB-shm" 2> /dev/null | grep -a -i -c -F -- "$1"
}

cp -r "$CORPORA/mail" "$TMP/mail"
find "$TMP/mail" -type f -exec touch -d '2025-06-30 12:00:00 UTC' {} +
crm import "$TMP/mail" > /dev/null
q "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null

# the greps below can fail: before, the file holds her
check "before: the database file holds priya's address" test "$(bytes priya@globex.co.uk)" -gt 0
check "before: ... and her name" test "$(bytes "Priya Shah")" -gt 0
check_equal "before: the index finds her" 1 \
	"$(q "SELECT count(*) > 0 FROM fts WHERE fts MATCH '\"priya globex co uk\"'")"

q .dump > "$TMP/before.sql"
check_output "forget --dry-run reports what would go" "$EXPECTED/T420-forget-dry.txt" \
	crm forget --dry-run Priya@Globex.co.uk
q .dump > "$TMP/after-dry.sql"
check "--dry-run changes nothing (the dump is the same)" cmp -s "$TMP/before.sql" "$TMP/after-dry.sql"
check_equal "--dry-run writes no audit row" 0 "$(q "SELECT count(*) FROM audit")"

check_output "forget reports what went" "$EXPECTED/T420-forget.txt" crm forget priya@globex.co.uk
check_equal "after: no byte of her address in the database files" 0 "$(bytes priya@globex.co.uk)"
check_equal "after: no byte of her display name" 0 "$(bytes "Priya Shah")"
check_equal "after: the index finds her neither by address nor by name" 0 \
	"$(q "SELECT count(*) FROM fts WHERE fts MATCH '\"priya globex co uk\" OR \"priya shah\"'")"
check_equal "after: the index still finds the others" 1 \
	"$(q "SELECT count(*) > 0 FROM fts WHERE fts MATCH '\"nigel globex co uk\"'")"
check_equal "after: the database is sound" "ok" "$(q "PRAGMA integrity_check")"
check "after: the full-text index is sound" q "INSERT INTO fts (fts) VALUES ('integrity-check')"
check_equal "after: she is no contact" "" "$(crm contacts | grep -i priya)"
check_equal "after: no participant row, source or contact holds her" "0|0|0" \
	"$(q "SELECT (SELECT count(*) FROM participants WHERE address LIKE '%priya%'),
	   (SELECT count(*) FROM message_sources WHERE mail_from LIKE '%priya%'),
	   (SELECT count(*) FROM contacts WHERE address LIKE '%priya%')")"
check_equal "after: a shared message keeps its other people, her name is masked in its body" \
	"nigel@globex.co.uk" \
	"$(q "SELECT group_concat(address) FROM participants p JOIN messages m ON m.id = p.message_id
	   WHERE m.msgid = (SELECT msgid FROM messages WHERE subject = 'Rollout plan for the London office'
	   ORDER BY date LIMIT 1) AND address LIKE '%globex%'")"
check_grep "after: the shown thread masks her name with x" "xxxxxxxxxx" \
	<(crm show thread "$(q "SELECT id FROM threads WHERE subject = 'Rollout plan for the London office'")")
check_output "after: the contacts are those of before, less her" \
	"$EXPECTED/T420-contacts.txt" crm contacts
check_equal "the audit row holds counts, not the address" \
	"forget|forgot an address: 1 contact, 0 accounts, 0 messages and 0 threads deleted, 8 messages redacted" \
	"$(q "SELECT action, detail FROM audit")"
check_equal "the audit row names who ran it" "$(id -un)" "$(q "SELECT who FROM audit")"
check_equal "the never-capture list holds her SHA-256, not her address" \
	"$(printf %s priya@globex.co.uk | sha256sum | cut -d' ' -f1)|address" \
	"$(q "SELECT hash, kind FROM forgotten")"

# a person whose mail had no other party outside: the messages and threads go
check "before: the file holds Frank Miller's name" test "$(bytes "Frank Miller")" -gt 0
check_output "forget frank.miller@gmail.com deletes his two threads" "$EXPECTED/T420-forget-frank.txt" \
	crm forget frank.miller@gmail.com
check_equal "after: no byte of his address or name" "0 0" \
	"$(bytes frank.miller@gmail.com) $(bytes "Frank Miller")"
check_equal "after: his threads, messages, raw sources and containers are gone" "0|0|0" \
	"$(q "SELECT (SELECT count(*) FROM threads WHERE subject IN ('Question', 'Re: Question')),
	   (SELECT count(*) FROM messages WHERE subject IN ('Question', 'Re: Question')),
	   (SELECT count(*) FROM raw WHERE message_id NOT IN (SELECT id FROM messages))")"
check_equal "after: the index is sound" "ok" \
	"$(q "INSERT INTO fts (fts) VALUES ('integrity-check')" && echo ok)"
check_equal "his audit row" "forgot an address: 1 contact, 0 accounts, 2 messages and 2 threads deleted, 0 messages redacted" \
	"$(q "SELECT detail FROM audit ORDER BY id DESC LIMIT 1")"

# the same mail again: her messages come back, she does not become a contact
crm import "$TMP/mail" > /dev/null
check_equal "re-import: she is not captured again" "" "$(crm contacts | grep -i priya)"
check_equal "re-import: no thread links her" 0 \
	"$(q "SELECT count(*) FROM links l JOIN contacts c ON c.id = l.contact_id WHERE c.address LIKE 'priya%'")"
check_grep "re-import: nigel is still a contact" "^nigel@globex.co.uk" <(crm contacts)

# a company: every address at the domain and its subdomains, and its account
check_output "forget @initech.de reports contacts, account and mail" \
	"$EXPECTED/T420-forget-domain.txt" crm forget @initech.de
check_equal "the domain's people and account are gone" "0|0|0" \
	"$(q "SELECT (SELECT count(*) FROM contacts WHERE address LIKE '%initech.de'),
	   (SELECT count(*) FROM accounts WHERE domain = 'initech.de'),
	   (SELECT count(*) FROM participants WHERE address LIKE '%initech.de')")"
check_equal "no byte of klaus.becker@initech.de is left" 0 "$(bytes klaus.becker@initech.de)"
check_equal "the list holds the domain's hash" \
	"$(printf %s initech.de | sha256sum | cut -d' ' -f1)|domain" \
	"$(q "SELECT hash, kind FROM forgotten WHERE kind = 'domain'")"

check_grep "forget @acme.com takes its subdomains' people too" "^  dave@mail.acme.com$" \
	<(crm forget @acme.com)
crm import "$TMP/mail" > /dev/null
check_equal "re-import: nobody at a forgotten domain or its subdomains is captured, no account made" \
	"0|0" "$(q "SELECT (SELECT count(*) FROM contacts WHERE address LIKE '%initech.de' OR address LIKE
	   '%acme.com'), (SELECT count(*) FROM accounts WHERE domain IN ('initech.de', 'acme.com'))")"

# refusals
crm forget alice@example.com > /dev/null 2> "$TMP/err"
check_equal "an own address is refused (exit 2)" 2 $?
check_grep "... saying why" "alice@example.com is in an own domain" "$TMP/err"
crm forget not-an-address > /dev/null 2>&1
check_equal "a word that is no address is a usage error" 2 $?
crm hold "$(q "SELECT thread_id FROM messages m JOIN participants p ON p.message_id = m.id
	WHERE p.address = 'nigel@globex.co.uk' LIMIT 1")" > /dev/null
crm forget nigel@globex.co.uk > /dev/null 2> "$TMP/err"
check_equal "a person in a thread under legal hold is not forgotten (exit 2)" 2 $?
check_grep "... and the hold is named" "is under a legal hold: release it" "$TMP/err"
check_grep "... nigel is still a contact" "^nigel@globex.co.uk" <(crm contacts)
check_folds "after the erasures each record's status figures equal its links'" "$DB"

# a store whose zstd dictionary was trained from its first import's first
# batch (raw.c), 120 messages sam sent first among 1,500: the dictionary
# held him too, so it goes and what it compressed is stored again without
# it; the next import trains a new one
python3 "$CRM_TOP/bench/gen" --count 1500 --out "$TMP/big" > /dev/null
first=$(ls "$TMP/big/cur" | head -1)
stays=$(sed -n 's/^Message-ID: *<\(.*\)>.*/\1/Ip' "$TMP/big/cur/$first" | head -1)
for i in $(seq -w 1 120); do
	printf 'From: Sam Rivera <sam@metrolabs.com>\nTo: Ursula Gross <u.gross@example.com>\nSubject: Metrolabs order %s\nDate: Mon, 03 Jan 2022 09:%02d:00 +0000\nMessage-ID: <order-%s@metrolabs.com>\n\nHello Ursula,\n\nplease find our order %s below. Sam Rivera, Metrolabs, sam@metrolabs.com\n' \
		"$i" $((10#$i % 60)) "$i" "$i" > "$TMP/big/cur/0000-sam-$i"
done
write_conf "$TMP/big.conf"
sed -i "s#^Database .*#Database $TMP/big.db#" "$TMP/big.conf"
big() { "$CRMCTL" -c "$TMP/big.conf" "$@"; }
big import "$TMP/big" > /dev/null
DB=$TMP/big.db
check_equal "before: the trained dictionary holds sam@metrolabs.com" 1 \
	"$(q "SELECT count(*) FROM zdicts WHERE instr(dict, CAST('sam@metrolabs.com' AS BLOB)) > 0")"
check_equal "forget says the dictionary went" \
	"the compression dictionary held these bytes and was dropped: the messages it compressed are stored without one until the next import trains a new one" \
	"$(big forget sam@metrolabs.com | tail -1)"
check_equal "after: no byte of his address in the database files" 0 "$(bytes sam@metrolabs.com)"
check_equal "after: no dictionary, no frame made with one, the file sound" "0|0|ok" \
	"$(q "SELECT (SELECT count(*) FROM zdicts), (SELECT count(*) FROM raw WHERE dict_id IS NOT NULL)
	   + (SELECT count(*) FROM messages WHERE dict_id IS NOT NULL), (SELECT * FROM pragma_integrity_check)")"
check_grep "after: the mail that stays reads as before" "^contacts: nsuzuki@westline-92.co.jp" \
	<(big show thread "$(q "SELECT thread_id FROM messages WHERE msgid = '$stays'")")
python3 "$CRM_TOP/bench/gen" --count 20 --seed 7 --out "$TMP/more" > /dev/null
big import "$TMP/more" > /dev/null
check_equal "the next import trains a new dictionary and recompresses with it" "1|0" \
	"$(q "SELECT (SELECT count(*) FROM zdicts), (SELECT count(*) FROM raw WHERE dict_id IS NULL AND data IS NOT NULL)")"
