#!/usr/bin/env bash
# T025-import-busy.sh - another writer locks the store in the middle of an
# import, longer than BusyTimeout: the import waits, retries, and stores
# every message once (it used to drop the message whose arrival started
# the batch write that found the store busy)
. "$(dirname "$0")/test-lib.sh"

N=3000
python3 - "$TMP/md" "$N" <<'PY'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for d in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(top, d), exist_ok=True)
body = "We would like to renew the contract for another year.\n" * 20
for i in range(n):
    with open(os.path.join(top, "cur", "%d.M%dP1.mx.example.com:2,S" % (1746522000 + i, i)), "w") as f:
        f.write("From: Dave <dave@acme%d.com>\nTo: alice@example.com\nSubject: Renewal %d\n"
                "Message-ID: <busy-%d@acme.com>\nDate: Tue, 06 May 2025 09:00:00 +0000\n\n%s"
                % (i % 40, i, i, body))
PY
write_conf "$TMP/c.conf" BusyTimeout 200
# a store made by a first message; another writer locks it, the import
# starts, and the lock is held 4 s more
mkdir -p "$TMP/first/cur"
sed 's/busy-0@/busy-first@/' "$TMP/md/cur/1746522000.M0P1.mx.example.com:2,S" > "$TMP/first/cur/1.M1P1.x:2,S"
"$CRMCTL" -c "$TMP/c.conf" import "$TMP/first" > /dev/null 2>&1
python3 - "$TMP/store.db" "$TMP/locked" "$CRMCTL" "$TMP/c.conf" "$TMP/md" <<'PY' > "$TMP/import.out" 2> "$TMP/import.err"
import sqlite3, subprocess, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").write(str(db.execute("SELECT count(*) FROM messages").fetchone()[0]))
p = subprocess.Popen([sys.argv[3], "-c", sys.argv[4], "import", sys.argv[5]])
time.sleep(4)
locked_through = p.poll() is None
db.execute("COMMIT")
rc = p.wait()
sys.stderr.write("held while importing: %s\n" % locked_through)
sys.exit(rc)
PY
rc=$?
check "the store was locked during the import" test -s "$TMP/locked"
check_grep "the import ran on while the store was locked" "^held while importing: True" "$TMP/import.err"
check_equal "the import succeeds" 0 $rc
check_grep "the summary counts every message" "^imported $N, duplicates 0, failed 0$" "$TMP/import.out"
check_equal "the store holds every message" $((N + 1)) \
	"$(sqlite3 "$TMP/store.db" 'SELECT count(*) FROM messages' 2> /dev/null)"
exit 0
