#!/usr/bin/env bash
# S540-demo-stop.sh - make demo stops everything it started (issue 14, point 10)
#
# make demo runs on a terminal (a pty here) until it is stopped.  It is
# stopped twice: once with Ctrl-C typed on the terminal, once with a
# SIGTERM to the demo script alone (as kill or a supervisor sends it; the
# script slept in the foreground, so the trap waited an hour).  Each time
# the "stopped" line must come within 30 s and nothing of the demo (its
# smtp-sink, crmilter, crmview, Postfix, the sleep) may be left running.
. "$(dirname "$0")/test-lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v postfix > /dev/null || ! command -v smtp-sink > /dev/null ||
	! command -v python3 > /dev/null || ! command -v curl > /dev/null; then
	skip "make demo stops" "needs root, postfix, smtp-sink, python3 and curl"
	exit 0
fi

cat > "$TMP/run.py" <<'PY'
# run.py HOW OUT - make demo on a pty; when it runs, stop it (HOW: ctrl-c | term)
import os, pty, select, signal, subprocess, sys, time
how, out = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("make", ["make", "-s", "demo"])
buf, sent, deadline = b"", None, time.time() + 400
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        buf += data
    if sent is None and b"press Ctrl-C" in buf:
        if how == "ctrl-c":
            os.write(fd, b"\x03")
        else:
            script = subprocess.run(["pgrep", "-f", "^bash build-aux/demo.sh"],
                                    capture_output=True, text=True).stdout.split()
            for p in script:
                os.kill(int(p), signal.SIGTERM)
        sent = time.time()
    if sent is not None and (b"stopped; the demo" in buf or time.time() - sent > 30):
        break
open(out, "wb").write(buf)
print("ready" if sent else "never-ready", "stopped" if b"stopped; the demo" in buf else "not-stopped")
PY

for how in ctrl-c term; do
	result=$(cd "$CRM_TOP" && CRM_BUILD= timeout 500 python3 "$TMP/run.py" "$how" "$TMP/$how.out")
	dir=$(grep -a -o '/tmp/crmilter-demo\.[A-Za-z0-9]*' "$TMP/$how.out" | head -1)
	sleep 2
	check_equal "make demo runs, then stops on $how with its 'stopped' line" "ready stopped" "$result"
	if [ -n "$dir" ]; then
		left=$(pgrep -af "$dir|demo.sh|sleep 3600" | grep -v pgrep)
		check_equal "after $how nothing of the demo runs" "" "$left"
		[ -z "$left" ] || { pkill -f "$dir"; pkill -f "sleep 3600"; } 2> /dev/null
		pkill -f "bash build-aux/demo.sh" 2> /dev/null
		rm -rf "$dir"
	else
		notok "make demo names its folder"
		tail -20 "$TMP/$how.out" | sed 's/^/# /'
	fi
done
exit 0
