#!/usr/bin/env bash
# T230-viewer-sessions.sh - sessions that end, and logins an attacker cannot
# hammer: logout ends the session on the server (the kept cookie is refused);
# an hour without a request and twelve hours after the login end it whatever
# the cookie says (crmview under libfaketime, its clock moved from outside);
# wrong passwords are slowed per address and account (429 with Retry-After,
# the right password too while it lasts, another address unhindered); six
# addresses flooding wrong passwords do not stop real logins; 600 idle
# connections from one address do not stall anyone else.  Every wait is
# bounded.
. "$(dirname "$0")/test-lib.sh"
. "$CRM_TOP/tests/viewer/lib.sh"

FAKELIB=$(dpkg -L libfaketime 2> /dev/null | grep '/libfaketimeMT\.so\.1$' | head -1)
if ! command -v curl > /dev/null || ! command -v python3 > /dev/null || [ -z "$FAKELIB" ]; then
	skip "viewer sessions" "needs curl, python3 and libfaketime"
	exit 0
fi
D=$TMP/v
viewer_store "$D" || { notok "the viewer store is built"; exit 0; }
echo "+0" > "$D/faketime"
chmod 644 "$D/faketime"
# shift SECONDS - crmview's clocks (wall and monotonic) run SECONDS ahead from now on
shift_clock() { echo "+$1" > "$D/faketime"; }
VIEW_WRAPPER="env LD_PRELOAD=$FAKELIB FAKETIME_TIMESTAMP_FILE=$D/faketime FAKETIME_NO_CACHE=1" \
	viewer_start s "$D" || { notok "crmview starts under libfaketime"; exit 0; }
U=$VIEW_URL
me() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$U/api/me"; }
# try FROM USER PASSWORD - one login from address FROM: the status code
try() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 --interface "$1" \
		--data-urlencode "address=$2@example.com" --data-urlencode "password=$3" "$U/login"
}

# ---- logout ends the session on the server ----
login "$TMP/j1" alice
kept=$(awk '$6 == "crmview" { print $7 }' "$TMP/j1")
check_equal "a logged-in session answers" 200 "$(me -b "crmview=$kept")"
curl -s -o /dev/null -b "crmview=$kept" "$U/logout"
check_equal "after logout the kept cookie is refused" 401 "$(me -b "crmview=$kept")"

# ---- idle and age limits, on crmview's own clock ----
login "$TMP/j2" alice
kept=$(awk '$6 == "crmview" { print $7 }' "$TMP/j2")
shift_clock 3300
check_equal "55 minutes later the session still answers" 200 "$(me -b "crmview=$kept")"
shift_clock 6600
check_equal "... and 55 minutes after that (each request starts the idle hour again)" 200 \
	"$(me -b "crmview=$kept")"
shift_clock 10500
check_equal "after 65 minutes without a request it is refused" 401 "$(me -b "crmview=$kept")"

# a cookie signed with the key file for ten years, for a live session
cat > "$TMP/cookie.py" << 'EOF'
import base64, hashlib, hmac, sys
key = hashlib.blake2b(open(sys.argv[1], "rb").read(), digest_size=32).digest()
p = base64.urlsafe_b64decode(sys.argv[2] + "=" * (-len(sys.argv[2]) % 4)).decode().split("|")
p[1] = str(int(p[1]) + 3650 * 86400)
payload = "|".join(p).encode()
mac = hmac.new(key, payload, hashlib.sha512).digest()[:32]
b = lambda x: base64.urlsafe_b64encode(x).decode().rstrip("=")
print(b(payload) + "." + b(mac))
EOF
login "$TMP/j3" alice
decade=$(python3 "$TMP/cookie.py" "$D/session.key" "$(awk '$6 == "crmview" { print $7 }' "$TMP/j3" | cut -d. -f1)")
check_equal "a ten-year cookie for the new session answers" 200 "$(me -b "crmview=$decade")"
t=10500 alive=1
for i in $(seq 14); do	# a request every 50 minutes: never idle, 11 h 40 min in all
	t=$((t + 3000)); shift_clock "$t"
	[ "$(me -b "crmview=$decade")" = 200 ] || alive=0
done
check "... and at every request for 11 h 40 min" test "$alive" = 1
shift_clock $((t + 1800))
check_equal "12 h 10 min after the login it is refused, whatever the cookie says" 401 \
	"$(me -b "crmview=$decade")"
shift_clock 0

# ---- throttling: per address and account ----
: > "$TMP/codes"
for i in $(seq 30); do try 127.0.0.2 alice wrong-$i >> "$TMP/codes"; echo >> "$TMP/codes"; done
check_equal "30 quick wrong passwords: 5 checked (401), then 429 without a check" \
	"5 25" "$(grep -c '^401$' "$TMP/codes") $(grep -c '^429$' "$TMP/codes")"
curl -s -D "$TMP/h" -o /dev/null --interface 127.0.0.2 -d 'address=alice@example.com&password=x' "$U/login"
check_grep "a throttled login says when to come back" '^Retry-After: [0-9]' "$TMP/h"
check_equal "the right password from that address waits too" 429 "$(try 127.0.0.2 alice pw-alice-2025)"
check_equal "the right password from another address logs in" 303 "$(try 127.0.0.1 alice pw-alice-2025)"
check_equal "another account from the throttled address may still try" 401 \
	"$(try 127.0.0.2 carol wrong)"
# guesses at one account from one address in 8 s of trying: 5, then a wait of 5 s
: > "$TMP/codes"
end=$(( $(date +%s) + 8 ))
while [ "$(date +%s)" -lt "$end" ]; do try 127.0.0.3 frank wrong >> "$TMP/codes"; echo >> "$TMP/codes"; sleep 0.05; done
checked=$(grep -c '^401$' "$TMP/codes")
echo "# 8 s of guessing from one address: $checked passwords checked, $(grep -c '^429$' "$TMP/codes") refused"
check "8 s of guessing: 5 or 6 passwords checked ($checked)" test "$checked" -ge 5 -a "$checked" -le 6

# ---- a flood of wrong passwords from six addresses, while alice logs in ----
cat > "$TMP/flood.py" << 'EOF'
import sys, threading, time, urllib.parse, http.client, socket
host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
stop = time.time() + secs
counts = {}
def flood(src):
    n = 0
    while time.time() < stop:
        try:
            c = http.client.HTTPConnection(host, port, timeout=20, source_address=(src, 0))
            body = urllib.parse.urlencode({"address": "alice@example.com", "password": "guess%d" % n})
            c.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
            code = c.getresponse().status
            counts[code] = counts.get(code, 0) + 1
            c.close()
        except OSError:
            counts["error"] = counts.get("error", 0) + 1
        n += 1
ts = [threading.Thread(target=flood, args=("127.0.0.%d" % k,)) for k in range(11, 17)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join("%s:%d" % kv for kv in sorted(counts.items(), key=str)))
EOF
port=${U##*:}
python3 "$TMP/flood.py" 127.0.0.1 "$port" 25 > "$TMP/flood.out" 2>&1 &
fpid=$!
sleep 1
ok_logins=0 t0=$(date +%s%N)
for i in $(seq 20); do [ "$(try 127.0.0.1 alice pw-alice-2025)" = 303 ] && ok_logins=$((ok_logins + 1)); done
ms=$(( ($(date +%s%N) - t0) / 20000000 ))
wait "$fpid"
echo "# while six addresses flood wrong passwords ($(cat "$TMP/flood.out")): $ok_logins of 20 logins, $ms ms each"
check_equal "20 of 20 real logins succeed during the flood" 20 "$ok_logins"

# ---- 600 idle connections from one address (more than the old limit of 512 in all) ----
cat > "$TMP/idle.py" << 'EOF'
import socket, sys, time
host, port, n, ready = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
held = []
for i in range(n):
    s = socket.socket()
    s.bind(("127.0.0.21", 0))
    s.settimeout(2)
    try:
        s.connect((host, port))
        held.append(s)
    except OSError:
        s.close()
open(ready, "w").write("%d\n" % len(held))
time.sleep(30)
EOF
python3 "$TMP/idle.py" 127.0.0.1 "$port" 600 "$TMP/idle.ready" &
ipid=$!
i=0; while [ ! -s "$TMP/idle.ready" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
login "$TMP/j4" alice
t0=$(date +%s%N)
code=$(me -b "$TMP/j4" --interface 127.0.0.1)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# with 600 idle connections opened from one address: a request answered $code in $ms ms"
check_equal "with 600 idle connections held, a request from elsewhere answers" 200 "$code"
check "... within a second ($ms ms)" test "$ms" -lt 1000
# an idle connection is closed by the server after its timeout
python3 - "$port" > "$TMP/closed" << 'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30, source_address=("127.0.0.22", 0))
t = time.time()
try:
    s.recv(1)
except OSError:
    pass
print(int(time.time() - t))
EOF
check "a connection that sends nothing is closed within 15 s ($(cat "$TMP/closed") s)" \
	test "$(cat "$TMP/closed")" -le 15
kill "$ipid" 2> /dev/null
wait "$ipid" 2> /dev/null
exit 0
