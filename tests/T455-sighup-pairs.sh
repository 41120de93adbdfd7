#!/usr/bin/env bash
# T455-sighup-pairs.sh - a second SIGHUP during a reload never stops
# crmilter: 200 pairs of SIGHUPs 0.5-2 ms apart, with a configuration of
# 20,000 lines so that each reload takes a while; crmilter must be running
# after every pair, still serve the milter socket, and never log that its
# milter loop ended
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/postfix.sh"

crm_alone "SIGHUP pairs"
write_conf "$TMP/c.conf" SpoolDirectory "$TMP/m/spool" PidFile "$TMP/m/run/pid" Socket "unix:$TMP/m/run/s.sock"
sed -i "s#^Database .*#Database $TMP/m/store/crm.db#" "$TMP/c.conf"
for i in $(seq 20000); do echo "# padding line $i: a slow reload"; done >> "$TMP/c.conf"
check "crmilter starts" crm_start "$TMP/c.conf" "$TMP/log"

python3 - "$CRM_PID" > "$TMP/pairs" << 'EOF'
import os, random, signal, sys, time
pid = int(sys.argv[1])
random.seed(455)
for i in range(200):
    try:
        os.kill(pid, signal.SIGHUP)
        time.sleep(random.uniform(0.0005, 0.002))
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        print("gone after pair %d" % (i + 1))
        sys.exit(0)
    time.sleep(0.02)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        print("gone after pair %d" % (i + 1))
        sys.exit(0)
print("running after 200 pairs")
EOF
check_equal "crmilter runs after 200 SIGHUP pairs" "running after 200 pairs" "$(cat "$TMP/pairs")"
sleep 0.5
check_equal "... and it still serves the milter socket" accepted \
	"$(python3 "$CRM_TOP/tests/milter/forge.py" "unix:$TMP/m/run/s.sock" hup-1@example.com)"
check "... its milter loop never ended" sh -c "! grep -q 'milter loop ended' '$TMP/log'"
reloads=$(grep -c "configuration reloaded" "$TMP/log")
echo "# $reloads reloads logged for 400 signals (signals that come during a reload merge)"
check "... having reloaded (at least 200 times: $reloads)" test "$reloads" -ge 200
crm_stop TERM
check_grep "SIGTERM still stops it cleanly" "stopped$" "$TMP/log"
exit 0
