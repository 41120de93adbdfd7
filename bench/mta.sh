#!/usr/bin/env bash
# mta.sh - what crmilter costs a real Postfix: throughput, EOM latency, memory
#
# A private Postfix on loopback (tests/milter/postfix.sh) relays to
# smtp-sink and is fed by smtp-source, in interleaved runs with
#   none      no milter
#   null      bench/nullmilter.c: negotiates like crmilter, does nothing
#   crmilter  crmilter with its spool and store
# for three message sizes:
#   2k        ~2 KB plain text (smtp-source's own, unique Message-IDs)
#   20k       ~20 KB text + HTML (multipart/alternative, one file: -F)
#   200k      ~200 KB with a PDF-like attachment (one file: -F)
# It prints accepted messages/s (smtp-source wall time: every message
# accepted by Postfix), crmilter/null and crmilter/none ratios, the latency
# crmilter adds at EOM (the spool commit: p50/p99 from its -v log), and
# crmilter's peak RSS, and how long its worker took to empty the spool after
# the last message (it runs at idle priority: a burst is logged after it);
# then a long 2 KB run with crmilter alone, sampling
# its RSS every second, to show that memory stays flat.
#
# Targets: crmilter >= 0.90 x null throughput; RSS flat over 10,000 messages.
#
# usage: bench/mta.sh [--count N] [--rounds R] [--long N] [--sessions S] [--keep]
#                     [--sizes "2k 20k 200k"] [--also NAME=BUILD[:VAR=VALUE]]...
#   defaults: 2000 messages per run, 3 rounds, 10000 in the long run, 8 sessions,
#   all three sizes
#   --also runs one more configuration, NAME: a second crmilter from
#   BUILD/crmilter (its own spool and store), with VAR=VALUE in its
#   environment when given, interleaved with the others and reported as
#   NAME/null (bench/spool-sync/ uses it to price the spool commit)
# Needs root (a private Postfix, smtp-sink), postfix, smtp-source, a built
# crmilter (CRM_BUILD, default build/).  Loopback only; everything is
# stopped and removed at exit (--keep keeps the work directory).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CRM_BUILD=${CRM_BUILD:-$TOP/build}
N=2000 ROUNDS=3 LONG=10000 SESSIONS=8 KEEP=
ALSO=() SIZES="2k 20k 200k"
while [ $# -gt 0 ]; do
	case $1 in
	--count) N=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--long) LONG=$2; shift 2 ;;
	--sessions) SESSIONS=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--also) ALSO+=("$2"); shift 2 ;;
	--sizes) SIZES=$2; shift 2 ;;
	-h|--help) sed -n '2,33s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "mta.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
die() { echo "mta.sh: $*" >&2; exit 1; }
for size in $SIZES; do
	case $size in 2k|20k|200k) ;; *) die "--sizes: $size is not one of 2k 20k 200k" ;; esac
done
for a in "${ALSO[@]}"; do
	name=${a%%=*}
	case $name in
	none|null|crmilter) die "--also $a: $name is taken" ;;
	esac
	printf '%s' "$name" | grep -qE '^[a-z0-9_-]{1,20}$' ||
		die "--also $a: NAME is 1-20 of a-z, 0-9, _ and -"
	[ "$a" != "$name" ] || die "--also $a: NAME=BUILD expected"
done
[ "$(printf '%s\n' "${ALSO[@]%%=*}" | sort | uniq -d)" = "" ] || die "--also: a NAME twice"
[ "$(id -u)" -eq 0 ] || die "needs root (private Postfix instance)"
for c in postfix smtp-source smtp-sink postconf python3 cc sqlite3; do
	command -v $c > /dev/null || die "needs $c"
done
[ -x "$CRM_BUILD/crmilter" ] || die "no $CRM_BUILD/crmilter: run make first"

export CRM_BUILD
. "$TOP/tests/milter/postfix.sh"
W=$(mktemp -d /tmp/crmbench.XXXXXX)
chmod 711 "$W"
PF=$W/postfix
NULL_PID=
ALSO_PIDS=
RSS_PID=
cleanup() {
	[ -n "$RSS_PID" ] && kill "$RSS_PID" 2> /dev/null
	pf_stop "$PF"
	crm_stop KILL
	[ -n "$ALSO_PIDS" ] && { kill -9 $ALSO_PIDS; wait $ALSO_PIDS; } 2> /dev/null
	[ -n "$NULL_PID" ] && kill "$NULL_PID" 2> /dev/null
	sink_stop
	if [ -n "$KEEP" ]; then echo "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -o "$W/nullmilter" "$TOP/bench/nullmilter.c" -lmilter -pthread || die "cannot build nullmilter"
crm_user
mkdir -p "$W/run" "$W/store"
chgrp postfix "$W/run"
chmod 770 "$W/run"
chown "$CRM_USER" "$W/store"
cat > "$W/crmilter.conf" <<EOF
Database $W/store/crm.db
Domains example.com
FreemailDomains $TOP/contrib/freemail-domains.txt
SpoolDirectory $W/spool
Socket unix:$W/run/crmilter.sock
PidFile $W/run/crmilter.pid
InternalHosts 192.0.2.0/24
EOF

# the two pre-formatted messages
python3 - "$W" <<'PY'
import base64, os, random, sys
w = sys.argv[1]
random.seed(7)
words = ("quote offer delivery invoice order meeting contract price volume schedule "
         "shipment please regards thanks update project review budget").split()
def text(n):
    out, line = [], []
    while sum(map(len, out)) < n:
        line.append(random.choice(words))
        if len(line) == 12:
            out.append(" ".join(line) + "\r\n"); line = []
    return "".join(out)
hdr = ("From: Dave Smith <dave@acme.com>\r\nTo: Alice <alice@example.com>\r\n"
       "Subject: {s}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n")
t = text(8000)
html = "<html><body>" + "".join("<p>%s</p>" % l for l in t.split("\r\n") if l) + "</body></html>"
m20 = (hdr.format(s="Quote for 20k") + 'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
       "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + t +
       "\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
       "\r\n".join(html[i:i + 76] for i in range(0, len(html), 76)) + "\r\n--b1--\r\n")
blob = base64.encodebytes(os.urandom(145000)).decode().replace("\n", "\r\n")
m200 = (hdr.format(s="Contract with attachment") + 'Content-Type: multipart/mixed; boundary="b2"\r\n\r\n'
        "--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text(1500) +
        '\r\n--b2\r\nContent-Type: application/pdf; name="contract.pdf"\r\n'
        'Content-Disposition: attachment; filename="contract.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + blob + "--b2--\r\n")
for name, m in (("m20k.eml", m20), ("m200k.eml", m200)):
    open(os.path.join(w, name), "w", newline="").write(m.replace("\r\n", "\n"))
PY

SMTP=$(free_port); SUB=$(free_port); SINK=$(free_port)
pf_setup "$PF" "$SMTP" "$SUB" "$SINK" ""
sink_start "$W/sink" "$SINK"
crm_start "$W/crmilter.conf" "$W/crmilter.log" -v || die "crmilter does not start: $(tail -3 "$W/crmilter.log")"
MAIN_PID=$CRM_PID
ALSO_NAMES=
for a in "${ALSO[@]}"; do	# NAME=BUILD[:VAR=VALUE]: its own spool, store and socket
	name=${a%%=*} rest=${a#*=}
	build=${rest%%:*} envset=
	[ "$rest" != "$build" ] && envset=${rest#*:}
	[ -x "$build/crmilter" ] || die "--also $a: no $build/crmilter"
	mkdir -p "$W/store-$name"
	chown "$CRM_USER" "$W/store-$name"
	sed -e "s#/store/#/store-$name/#" -e "s#/spool\$#/spool-$name#" \
	    -e "s#crmilter\.sock#$name.sock#" -e "s#crmilter\.pid#$name.pid#" \
	    "$W/crmilter.conf" > "$W/$name.conf"
	# shellcheck disable=SC2086 # envset is one VAR=VALUE or empty
	CRM_BUILD=$build CRM_WRAPPER="env $envset" crm_start "$W/$name.conf" "$W/$name.log" -v ||
		die "$name does not start: $(tail -3 "$W/$name.log")"
	ALSO_PIDS="$ALSO_PIDS $CRM_PID" ALSO_NAMES="$ALSO_NAMES $name"
done
CRM_PID=$MAIN_PID
(umask 007; exec "$W/nullmilter" "unix:$W/run/null.sock") &
NULL_PID=$!
sleep 0.3
chgrp postfix "$W/run/null.sock" 2> /dev/null
pf_start "$PF" || die "postfix does not start: $(cat "$PF/log/start.out")"

# use_milter SPEC - point Postfix at a milter ("" for none)
use_milter() {
	postconf -c "$PF/etc" -e "smtpd_milters = $1" "non_smtpd_milters = $1"
	postfix -c "$PF/etc" reload > /dev/null 2>&1
	sleep 1.2
}

# wait_drained - Postfix's queue and crmilter's spool are empty
wait_drained() {
	pf_wait_empty "$PF" 300 || echo "mta.sh: warning: Postfix queue not empty" >&2
	local i=0
	while [ -n "$(find "$W"/spool*/new -type f -print -quit 2> /dev/null)" ] && [ $i -lt 3000 ]; do
		sleep 0.1; i=$((i + 1))
	done
}

# send SIZE COUNT - smtp-source with that message size; prints elapsed seconds
send() {
	local args
	case $1 in
	2k) args="-l 2000" ;;
	20k) args="-F $W/m20k.eml" ;;
	200k) args="-F $W/m200k.eml" ;;
	esac
	local t0 t1
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	smtp-source -s "$SESSIONS" -m "$2" $args -f dave@acme.com -t alice@example.com \
		-S "Bench $1" "127.0.0.1:$SMTP" > /dev/null 2>&1 || echo "mta.sh: smtp-source failed" >&2
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

CFGS="none null crmilter$ALSO_NAMES"
declare -A spec=([none]="" [null]="unix:$W/run/null.sock" [crmilter]="unix:$W/run/crmilter.sock")
for name in $ALSO_NAMES; do spec[$name]="unix:$W/run/$name.sock"; done
: > "$W/results"
echo "crmilter MTA benchmark: $N messages per run, $ROUNDS interleaved rounds, $SESSIONS sessions, $(nproc) CPUs"
for r in $(seq 1 "$ROUNDS"); do
	for size in $SIZES; do
		for cfg in $CFGS; do
			use_milter "${spec[$cfg]}"
			before=$(grep -c ' eom ' "$W/crmilter.log")
			secs=$(send "$size" "$N")
			echo "$size $cfg $secs" >> "$W/results"
			if [ "$cfg" = crmilter ]; then
				grep ' eom ' "$W/crmilter.log" | tail -n +$((before + 1)) |
					sed 's/.*eom \([0-9]*\) us.*/\1/' >> "$W/eom.$size"
			fi
			d0=$(date +%s.%N)
			wait_drained
			if [ "$cfg" = crmilter ]; then
				awk -v a="$d0" -v b="$(date +%s.%N)" -v s="$size" \
					'BEGIN { printf "%s %.3f\n", s, b - a }' >> "$W/drain"
			fi
			printf '  round %d %-5s %-9s %6.1f msg/s\n' "$r" "$size" "$cfg" \
				"$(awk -v n="$N" -v s="$secs" 'BEGIN { print n / s }')"
		done
	done
done
peak=$(awk '/VmHWM/ {print $2}' "/proc/$CRM_PID/status")

python3 - "$W" "$N" "$peak" "$SIZES" $ALSO_NAMES <<'PY'
import statistics, sys
w, n, peak = sys.argv[1], int(sys.argv[2]), int(sys.argv[3] or 0)
sizes, also = sys.argv[4].split(), sys.argv[5:]
rates = {}
for line in open(w + "/results"):
    size, cfg, secs = line.split()
    rates.setdefault((size, cfg), []).append(n / float(secs))
print()
drain = {}
for line in open(w + "/drain"):
    size, secs = line.split()
    drain.setdefault(size, []).append(float(secs))
print("%-6s %10s %10s %10s %10s %10s %14s %14s %10s" % ("size", "none/s", "null/s", "crmilter/s",
      "crm/null", "crm/none", "EOM p50 (ms)", "EOM p99 (ms)", "drain (s)"))
ok = True
for size in sizes:
    med = {c: statistics.median(rates[(size, c)]) for c in ("none", "null", "crmilter")}
    try:
        eom = sorted(int(x) for x in open("%s/eom.%s" % (w, size)) if x.strip())
    except FileNotFoundError:
        eom = []
    p = lambda q: eom[min(len(eom) - 1, int(q * len(eom)))] / 1000.0 if eom else float("nan")
    ratio = med["crmilter"] / med["null"]
    ok &= ratio >= 0.90
    print("%-6s %10.1f %10.1f %10.1f %10.2f %10.2f %14.2f %14.2f %10.1f" % (size, med["none"],
          med["null"], med["crmilter"], ratio, med["crmilter"] / med["none"], p(0.50), p(0.99),
          statistics.median(drain[size])))
for name in also:
    print()
    print("%-6s %10s %10s %10s" % ("size", name + "/s", name + "/null", "crmilter/null"))
    for size in sizes:
        med = {c: statistics.median(rates[(size, c)]) for c in ("null", "crmilter", name)}
        print("%-6s %10.1f %10.2f %10.2f" % (size, med[name], med[name] / med["null"],
              med["crmilter"] / med["null"]))
print()
print("crmilter peak RSS over these runs: %.1f MB" % (peak / 1024.0))
print("target crmilter >= 0.90 x null throughput: %s" % ("met" if ok else "NOT met"))
PY

if [ "$LONG" -gt 0 ]; then
	echo
	echo "long run: $LONG messages of ~2 KB through crmilter, RSS sampled every second"
	use_milter "${spec[crmilter]}"
	(while kill -0 "$CRM_PID" 2> /dev/null; do
		awk '/VmRSS/ {print $2}' "/proc/$CRM_PID/status"; sleep 1
	done) > "$W/rss" &
	RSS_PID=$!
	secs=$(send 2k "$LONG")
	t0=$(date +%s.%N)
	wait_drained
	drain=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
	sleep 1
	kill "$RSS_PID" 2> /dev/null; RSS_PID=
	python3 - "$W/rss" "$LONG" "$secs" "$drain" <<'PY'
import sys
rss = [int(x) for x in open(sys.argv[1]) if x.strip()]
n, secs, drain = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
if len(rss) < 3:
    print("too few RSS samples"); sys.exit(0)
def at(f): return rss[min(len(rss) - 1, int(f * (len(rss) - 1)))] / 1024.0
print("accepted %.1f msg/s; spool drained %.1f s after the last message" % (n / secs, drain))
print("RSS MB: start %.1f  25%% %.1f  50%% %.1f  75%% %.1f  end %.1f  max %.1f" %
      (at(0), at(.25), at(.5), at(.75), at(1), max(rss) / 1024.0))
flat = at(1) <= 1.25 * at(.25) + 2
print("memory flat (end <= 1.25 x the 25%% mark): %s" % ("yes" if flat else "NO"))
PY
	echo "store: $(sqlite3 -readonly "$W/store/crm.db" 'select count(*) from messages' 2> /dev/null) distinct messages"
fi
