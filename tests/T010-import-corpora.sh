#!/usr/bin/env bash
# T010-import-corpora.sh - import the project's fixtures; threads, contacts and
# accounts come out exactly as expected (tests/expected/T010-*)
. "$(dirname "$0")/test-lib.sh"

write_conf "$TMP/c.conf"
crm() { "$CRMCTL" -c "$TMP/c.conf" "$@"; }

# messages without a usable Date fall back to the file's time: pin it
cp -r "$CORPORA/mail" "$TMP/mail"
find "$TMP/mail" -type f -exec touch -d '2025-06-30 12:00:00 UTC' {} +

check_output "import of tests/corpora/mail reports every message" \
	"$EXPECTED/T010-import.txt" crm import "$TMP/mail"
check_output "threads are grouped as expected" "$EXPECTED/T010-threads.txt" crm threads
check_output "contacts are captured as expected" "$EXPECTED/T010-contacts.txt" crm contacts
check_output "accounts are made as expected" "$EXPECTED/T010-accounts.txt" crm accounts
check_output "stats after the import" "$EXPECTED/T010-stats.txt" crm stats
check_output "the account filter lists acme.com's threads" \
	"$EXPECTED/T010-threads-acme.txt" crm threads --account acme.com
check_output "show contact, as JSON" "$EXPECTED/T010-contact-dave.json" \
	crm show contact dave@mail.acme.com --json
check_output "show thread 1, as text" "$EXPECTED/T010-thread-1.txt" crm show thread 1
crm show contact dave@mail.acme.com > "$TMP/contact.txt"
check_grep "show contact names the rule that captured the contact" \
	"^captured: built-in:12: policy sent$" "$TMP/contact.txt"
