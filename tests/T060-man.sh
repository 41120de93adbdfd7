#!/usr/bin/env bash
# T060-man.sh - every man page renders without a groff warning, and names
# every crmctl command it documents
. "$(dirname "$0")/test-lib.sh"

if ! command -v groff > /dev/null; then
	skip "man pages render" "no groff"; exit 0
fi
for page in "$CRM_TOP"/man/*.[1-8]; do
	[ -f "$page" ] || continue
	warnings=$(LC_ALL=C.UTF-8 groff -ww -man -Tutf8 -z "$page" 2>&1)
	check_equal "$(basename "$page") renders without warnings" "" "$warnings"
done
# every command in crmctl --help has an entry in crmctl(8)
for cmd in $("$CRMCTL" --help | awk '/^commands:/ { on = 1; next } on && NF { print $1 }'); do
	check_grep "crmctl(8) documents '$cmd'" "^\\.BR* *\"*$cmd" "$CRM_TOP/man/crmctl.8"
done
