#!/usr/bin/env bash
# T021-outlook-lists.sh - Outlook's HTML marks list numbers with
# <![if !supportLists]> ... <![endif]>; the markers never reach the text,
# the numbers they enclose do
. "$(dirname "$0")/test-lib.sh"

mkdir -p "$TMP/m"
printf 'From: a@acme.com\nTo: b@example.com\nSubject: Next steps\nMessage-ID: <ol-1@acme.com>\nDate: Tue, 06 May 2025 09:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body><p class=MsoListParagraph><![if !supportLists]><span>1.<span>&nbsp;&nbsp; </span></span><![endif]>Renew the contract</p><p><![IF !supportLists]>2. <![ENDIF]>Send the invoice</p></body></html>\n' \
	> "$TMP/m/ol.eml"
write_conf "$TMP/c.conf"
"$CRMCTL" -c "$TMP/c.conf" parse --json "$TMP/m/ol.eml" > "$TMP/p.json" 2> /dev/null
check_equal "the text has the numbers, not the markers" \
	"'1. Renew the contract\n\n2. Send the invoice'" \
	"$(python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["body"]))' "$TMP/p.json")"
exit 0
