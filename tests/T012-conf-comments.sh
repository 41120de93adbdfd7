#!/usr/bin/env bash
# T012-conf-comments.sh - a comment after a value, as INSTALL.md and the
# shipped crmilter.conf write them ("Domains example.com  # your own mail
# domains"), is never part of the value: INSTALL.md's own lines load;
# OriginatingName with its comment still makes submitted mail outbound; an
# uncommented ViewerSessionKeyFile line of the example names the key file
# itself, not a file called "viewer.key   # created (0600) when missing"
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

# INSTALL.md's configuration lines (the here-document its step 1 appends
# to crmilter.conf), with this test's folders
sed -n "/^    cat >> \/etc\/crmilter\/crmilter.conf <<'EOF'\$/,/^    EOF\$/p" "$CRM_TOP/INSTALL.md" |
	sed -e '1d' -e '$d' -e 's/^    //' > "$TMP/install.lines"
check "INSTALL.md shows lines with trailing comments" grep -q '^Domains .*# ' "$TMP/install.lines"
sed -e "s#^Database .*#Database $TMP/m/store/crm.db#" -e "s#^SpoolDirectory .*#SpoolDirectory $TMP/m/spool#" \
	-e "s#^Socket .*#Socket unix:$TMP/m/run/s.sock#" "$TMP/install.lines" > "$TMP/c.conf"
{ echo "PidFile $TMP/m/run/pid"; echo "FreemailDomains $CRM_TOP/contrib/freemail-domains.txt"
  sed -n 's/^#\(ViewerSessionKeyFile\)[[:space:]]*[^[:space:]]*/\1 viewer.key/p' "$CRM_TOP/contrib/crmilter.conf.example"
} >> "$TMP/c.conf"
check_grep "the example's ViewerSessionKeyFile line keeps its comment here" "^ViewerSessionKeyFile viewer.key .*# created" "$TMP/c.conf"
"$CRMCTL" -c "$TMP/c.conf" rules check > "$TMP/out" 2>&1
check_equal "crmctl reads INSTALL.md's lines (exit 0)" 0 $?
sed 's/^/# /' "$TMP/out" | head -3

crm_alone "crmilter with INSTALL.md's lines"
check "crmilter starts with them" crm_start "$TMP/c.conf" "$TMP/m.log"
check_equal "mail from the submission service (daemon_name ORIGINATING) is taken" accepted \
	"$(python3 "$CRM_TOP/tests/milter/forge.py" "unix:$TMP/m/run/s.sock" sub-1@example.com --auth "" --daemon-name ORIGINATING)"
i=0; while [ -n "$(ls -A "$TMP/m/spool/new")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_equal "... and logged outbound: OriginatingName is ORIGINATING, not its comment" outbound \
	"$(sqlite3 -readonly -cmd '.timeout 5000' "$TMP/m/store/crm.db" "select direction from messages where msgid = 'sub-1@example.com'")"
crm_stop TERM

[ -x "$CRM_BUILD/crmview" ] || { skip "crmview and the key file" "needs crmview"; exit 0; }
chown -R "$CRM_USER" "$TMP"
"$CRM_BUILD/crmview" -c "$TMP/c.conf" -l 127.0.0.1:0 > "$TMP/view.out" 2>&1 &
vpid=$!
i=0; while ! grep -q 'listening on' "$TMP/view.out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill "$vpid" 2> /dev/null; wait "$vpid" 2> /dev/null
check "crmview made the key file named by the value" test -s "$TMP/viewer.key"
check_equal "... and no file named after the comment" "" "$(ls "$TMP" | grep '#')"
exit 0
