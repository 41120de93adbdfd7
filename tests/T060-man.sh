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

# every option of crmilter --help and crmview --help is in the page's OPTIONS
for prog in crmilter crmview; do
	check "$prog --help succeeds" "$CRM_BUILD/$prog" --help
	opts=$("$CRM_BUILD/$prog" --help | grep -o '^  -[a-zA-Z]' | tr -d ' ')
	section=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$CRM_TOP/man/$prog.8" 2>/dev/null |
		sed -n '/^OPTIONS/,/^[A-Z]/p')
	for o in $opts; do
		case $section in
		*"       $o"*) ok "$prog(8) OPTIONS explains $o" ;;
		*) notok "$prog(8) OPTIONS explains $o" ;;
		esac
	done
done

# a command's synopsis in crmctl(8) is one tag line, not split into its text
rendered=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$CRM_TOP/man/crmctl.8" 2>/dev/null)
for entry in "rules explain [-r rules] [--direction in|out] [--json] message ..." \
	"rules apply [--since date] [--dry-run] [--json]"; do
	case $rendered in
	*"       $entry"$'\n'*) ok "crmctl(8): '$entry' renders whole" ;;
	*) notok "crmctl(8): '$entry' renders whole" ;;
	esac
done

# installed pages name the installed paths, never /usr/local when PREFIX=/usr
make -s -C "$CRM_TOP" DESTDIR="$TMP/root" PREFIX=/usr SYSCONFDIR=/etc install-man > "$TMP/install.out" 2>&1
check_equal "installed man pages with PREFIX=/usr name no /usr/local path" "" \
	"$(grep -l /usr/local "$TMP"/root/usr/share/man/man*/* 2> /dev/null)"
check "the installed crmilter-rules(5) names the installed example" \
	grep -q '/usr/share/crmilter/rules.example' "$TMP/root/usr/share/man/man5/crmilter-rules.5"
