#!/usr/bin/env bash
# T510-metrics.sh - crmview's /metrics: the Prometheus text format, every
# number checked against the store built from the fixtures (counted here
# with sqlite3) and against a spool laid out here, no login needed, and
# ViewerMetricsFrom: an address outside it gets 403 (a second loopback
# address, 127.0.0.2, stands for another host), "none" turns it off, a bad
# entry stops crmview at start
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"

D=$TMP/v
viewer_store "$D" || { notok "the test store is built"; sed 's/^/# /' "$D/import.log"; exit 1; }
ok "the test store is built"
# the spool: two messages waiting in new/ (the oldest 90 s), one in failed/
mkdir -p "$D/spool/new" "$D/spool/tmp" "$D/spool/failed"
printf 'x%.0s' $(seq 1 100) > "$D/spool/new/1.000000.1_1.A"
printf 'y%.0s' $(seq 1 50) > "$D/spool/new/2.000000.1_1.B"
touch -d "@$(($(date +%s) - 90))" "$D/spool/new/1.000000.1_1.A"
printf 'z\n' > "$D/spool/failed/3.000000.1_1.C"
echo "broken" > "$D/spool/failed/3.000000.1_1.C.reason"
echo "SpoolDirectory $D/spool" >> "$D/base.conf"

check "crmview starts (default ViewerMetricsFrom)" viewer_start main "$D"
U=$VIEW_URL
curl -s -D "$TMP/h" -o "$TMP/m" "$U/metrics"
check_grep "/metrics answers 200 without a login" "^HTTP/1.1 200" "$TMP/h"
check_grep "in the Prometheus text format 0.0.4" \
	"^Content-Type: text/plain; version=0.0.4; charset=utf-8" "$TMP/h"

# value NAME [LABELS] - the sample of NAME in the scrape
value() { awk -v n="$1${2:-} " 'index($0, n) == 1 { print $NF }' "$TMP/m"; }
q() { sqlite3 -readonly "$D/store.db" "$1"; }

check_equal "messages logged, as the store counts them" \
	"$(q "SELECT count(*) FROM messages WHERE log <> 'skipped'")" "$(value crmilter_messages_logged)"
check_equal "the fixtures log 49 messages (38 of tests/corpora/mail, 11 of tests/viewer/mail)" 49 \
	"$(value crmilter_messages_logged)"
for reason in "mailing list" "internal only" "auto-submitted"; do
	check_equal "messages skipped as '$reason'" \
		"$(q "SELECT count(*) FROM messages WHERE log = 'skipped' AND log_reason = '$reason'")" \
		"$(value crmilter_messages_skipped "{reason=\"$reason\"}")"
done
check_equal "the skipped samples add up to every skipped message" \
	"$(q "SELECT count(*) FROM messages WHERE log = 'skipped'")" \
	"$(awk '/^crmilter_messages_skipped\{/ { n += $NF } END { print n + 0 }' "$TMP/m")"
check_equal "contacts created" "$(q "SELECT count(*) FROM contacts")" "$(value crmilter_contacts)"
check_equal "threads unassigned" \
	"$(q "SELECT count(*) FROM threads WHERE messages > 0 AND unassigned IS NOT NULL")" \
	"$(value crmilter_threads_unassigned)"
check_equal "imported mail has no milter arrival" "" "$(value crmilter_last_arrival_timestamp_seconds)"
check_equal "store bytes: the database file and its WAL" \
	"$(( $(stat -c %s "$D/store.db") + $(stat -c %s "$D/store.db-wal" 2> /dev/null || echo 0) ))" \
	"$(value crmilter_store_bytes)"
check_equal "schema version" "$(q "PRAGMA user_version")" "$(value crmilter_store_schema_version)"
check_equal "spool depth: the two messages in new/" 2 "$(value crmilter_spool_messages)"
check_equal "spool bytes" 150 "$(value crmilter_spool_bytes)"
age=$(value crmilter_spool_oldest_age_seconds)
if [ -n "$age" ] && [ "$age" -ge 90 ] && [ "$age" -lt 150 ]; then
	ok "the oldest spool file's age is the lag ($age s)"
else
	notok "the oldest spool file's age is the lag (got '$age', expected 90..149)"
fi
check_equal "failed/: one message (its .reason is not counted)" 1 "$(value crmilter_spool_failed_messages)"
check_equal "each metric has HELP and TYPE" "" "$(awk '
	/^# HELP / { help[$3] = 1; next } /^# TYPE / { type[$3] = $4; next } /^#/ { next }
	{ n = $1; sub(/\{.*/, "", n); if (!help[n] || !type[n]) print "no HELP/TYPE: " n }' "$TMP/m")"
check_equal "every metric is a gauge (store totals fall on purge and forget)" "" \
	"$(awk '/^# TYPE / && $4 != "gauge" { print $3 " " $4 }' "$TMP/m")"
check_equal "every line is a comment or NAME[{LABELS}] INTEGER" "" \
	"$(grep -Ev '^(# .*|[a-z_]+(\{reason="[^"]*"\})? -?[0-9]+)$' "$TMP/m")"
check_equal "HEAD /metrics answers 200" 200 "$(curl -s -I -o /dev/null -w '%{http_code}' "$U/metrics")"
check_equal "POST /metrics is refused" 405 "$(curl -s -o /dev/null -w '%{http_code}' -d x=1 "$U/metrics")"
check_equal "the default (loopback) lets 127.0.0.2 scrape" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$U/metrics")"
check_equal "other pages still need a login" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$U/api/accounts")"

# a new skip reason shows at the next scrape (the store is read each time)
sqlite3 "$D/store.db" "UPDATE messages SET log_reason = 'a \"quoted\" \\ reason' WHERE id = (SELECT min(id) FROM messages WHERE log = 'skipped')"
curl -s -o "$TMP/m" "$U/metrics"
check_grep "a label value escapes quotes and backslashes" \
	'^crmilter_messages_skipped{reason="a \\"quoted\\" \\\\ reason"} 1$' "$TMP/m"

# ---- ViewerMetricsFrom ----
check "crmview starts with ViewerMetricsFrom 127.0.0.1/32" viewer_start one "$D" ViewerMetricsFrom 127.0.0.1/32
check_equal "the listed address scrapes" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$VIEW_URL/metrics")"
curl -s -D "$TMP/h" -o "$TMP/m" --interface 127.0.0.2 "$VIEW_URL/metrics"
check_grep "an address outside it gets 403" "^HTTP/1.1 403" "$TMP/h"
check_equal "and no numbers" "" "$(grep crmilter_ "$TMP/m")"
check "crmview starts with ViewerMetricsFrom none" viewer_start off "$D" ViewerMetricsFrom none
check_equal "none: even loopback gets 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' "$VIEW_URL/metrics")"
viewer_start bad "$D" ViewerMetricsFrom 10.0.0.0/99
line=$(grep -n '^ViewerMetricsFrom' "$D/bad.conf" | cut -d: -f1)
check_grep "a bad entry stops crmview at start, naming file, line, key and value" \
	"$D/bad.conf:$line: ViewerMetricsFrom: 10.0.0.0/99: expected an address, ADDRESS/BITS or none" "$D/bad.out"
