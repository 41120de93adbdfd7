#!/usr/bin/env bash
# T385-milter-guard.sh - whoever reaches the milter socket can write records,
# so it is guarded: "Socket inet:PORT" listens on loopback only; a TCP peer
# outside MilterPeers is closed before it says anything (a forged outbound
# message is not stored); and 1,100 connections that connect and stall, held
# and renewed while Postfix sends 100 messages, neither stop Postfix nor
# leave a message unlogged (MilterConnections, and a watchdog for silent
# connections).  crmilter runs with 1,024 descriptors.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/milter/faults.sh"
fault_requirements "the milter socket's guard"
ulimit -Sn 1024

# ---- inet: loopback, and MilterPeers ----
crm_user
chmod 711 "$TMP"
mkdir -p "$TMP/i/spool" "$TMP/i/store" "$TMP/i/run"
chown -R "$CRM_USER" "$TMP/i"
PORT=$(free_port)
write_conf "$TMP/i.conf" Socket "inet:$PORT" SpoolDirectory "$TMP/i/spool" PidFile "$TMP/i/run/pid" \
	MilterPeers 127.0.0.1/32
sed -i "s#^Database .*#Database $TMP/i/store/crm.db#" "$TMP/i.conf"
crm_start "$TMP/i.conf" "$TMP/i.log" || { notok "crmilter starts on inet:$PORT"; exit 0; }
listen=$(ss -ltnH "sport = :$PORT" | awk '{ print $4 }' | sort -u | tr '\n' ' ')
check_equal "inet:PORT without an address listens on loopback only" "127.0.0.1:$PORT " "$listen"
forged=$(python3 "$CRM_TOP/tests/milter/forge.py" "inet:$PORT@127.0.0.1" forged-1@example.com --source 127.0.0.2)
check "a peer outside MilterPeers is closed before it is heard ($forged)" \
	test "${forged%%:*}" = refused
check_grep "... and logged" "milter connection from 127.0.0.2 refused: not in MilterPeers" "$TMP/i.log"
check_equal "the MTA's address is served (it could write records: the socket must be guarded)" \
	accepted "$(python3 "$CRM_TOP/tests/milter/forge.py" "inet:$PORT@127.0.0.1" forged-2@example.com --source 127.0.0.1)"
i=0; while [ -n "$(ls -A "$TMP/i/spool/new" 2> /dev/null)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_equal "only the allowed peer's message is stored" "forged-2@example.com outbound" \
	"$(sqlite3 -readonly -cmd '.timeout 5000' "$TMP/i/store/crm.db" "select msgid || ' ' || direction from messages" | tr '\n' ' ' | sed 's/ $//')"
crm_stop TERM

# ---- 1,100 stalled connections while Postfix sends ----
fault_setup
send base 100 --clients 4
base_s=$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' "$TMP/base.send.out")
cat > "$TMP/stall.py" << 'EOF'
import os, socket, sys, time
path, n, ready, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
held, opened = [], 0
def fill():
    global opened
    while len(held) < n:
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        try:
            s.connect(path)
        except OSError:
            s.close()
            return
        held.append(s)
        opened += 1
fill()
open(ready, "w").write("%d\n" % len(held))
while not os.path.exists(stop):          # renew what crmilter drops
    for s in list(held):
        try:
            if s.recv(1, socket.MSG_DONTWAIT) == b"":
                held.remove(s); s.close()
        except BlockingIOError:
            pass
        except OSError:
            held.remove(s); s.close()
    fill()
    time.sleep(0.2)
print(opened)
EOF
(ulimit -Sn 4096; exec python3 "$TMP/stall.py" "$SOCK" 1100 "$TMP/stall.ready" "$TMP/stall.stop" > "$TMP/stall.out" 2>&1) &
spid=$!
wait_for 60 test -s "$TMP/stall.ready"
echo "# $(cat "$TMP/stall.ready") stalled connections opened at once"
check "the stalled connections are held" test -s "$TMP/stall.ready"
send flood 100 --clients 4 --timeout 120
flood_s=$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' "$TMP/flood.send.out")
: > "$TMP/stall.stop"
wait "$spid"
echo "# 100 messages through Postfix: $base_s s alone, $flood_s s under the stall flood ($(cat "$TMP/stall.out") stalled connections opened in all)"
check_delivered flood
check "crmilter drains the spool" wait_spool_empty 60
check_stored_once flood
check "Postfix never timed out on the milter" sh -c "! grep -q 'milter.*\(timeout\|timed out\|Connection refused\|Resource temporarily\)' '$PF/log/maillog'"
check_grep "crmilter says it drops connections that send nothing" "milter connection dropped: it sent nothing" "$LOG"
exit 0
