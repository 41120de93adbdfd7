# postfix.sh - a private Postfix instance, smtp-sink and crmilter for tests,
# the demo and the benchmark (sourced; bash)
#
# Everything lives under one directory and listens on loopback only:
#   pf_setup DIR SMTP_PORT SUBMISSION_PORT SINK_PORT MILTER_SPEC
#       writes DIR/etc/{main,master}.cf: an smtpd on SMTP_PORT ("port 25"),
#       a submission smtpd on SUBMISSION_PORT that sets
#       milter_macro_daemon_name=ORIGINATING, relayhost [127.0.0.1]:SINK_PORT,
#       queue/data/log under DIR, chroot off, MILTER_SPEC as smtpd and
#       non-smtpd milter ("" for none)
#   pf_start DIR / pf_stop DIR        postfix -c DIR/etc start|stop
#   pf_wait_empty DIR SECONDS         wait until the queue is empty
#   sink_start DIR PORT / sink_stop   smtp-sink dumping one file per message
#   crm_user                          make sure the unprivileged user exists
#   crm_alone WHAT                    for a test of crmilter without Postfix: skip
#                                     (and exit) unless root with crmilter and
#                                     sqlite3; kill crmilter and remove $TMP at
#                                     exit; the user; $TMP/m/{store,spool/new,run}
#                                     made and given to it
#   crm_start CONF LOG [ARGS...] / crm_stop [SIGNAL]   crmilter in the foreground
#   spool_put SPOOL N QUEUEID BODY MAILFROM RCPT [ORIGINATED]   a message into its spool
#                                     (under $CRM_WRAPPER when set, e.g. valgrind)
#   free_port                         an unused loopback TCP port
CRM_USER=${CRM_USER:-crmilter}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

crm_alone() {
	if [ "$(id -u)" -ne 0 ] || [ ! -x "$CRM_BUILD/crmilter" ] || ! command -v sqlite3 > /dev/null; then
		skip "$1" "needs root, sqlite3 and crmilter"
		exit 0
	fi
	trap 'crm_stop KILL; rm -rf "$TMP"' EXIT
	crm_user
	chmod 711 "$TMP"
	mkdir -p "$TMP/m/store" "$TMP/m/spool/new" "$TMP/m/run"
	chown -R "$CRM_USER" "$TMP/m"
}

crm_user() {
	id "$CRM_USER" > /dev/null 2>&1 ||
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$CRM_USER"
}

pf_setup() {
	local dir=$1 smtp=$2 sub=$3 sink=$4 milter=$5
	mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/log"
	chown postfix "$dir/data"
	# the stock master.cf with chroot off, our two smtpd services, and postlog
	awk -v smtp="$smtp" -v subport="$sub" '
		/^[#[:space:]]/ || NF == 0 { if (!skip) print; next }
		{ skip = 0 }
		$1 == "smtp" && $2 == "inet" {
			print "127.0.0.1:" smtp " inet n - n - - smtpd"
			print "127.0.0.1:" subport " inet n - n - - smtpd"
			print "  -o syslog_name=postfix/submission"
			print "  -o milter_macro_daemon_name=ORIGINATING"
			next
		}
		$2 == "unix" && ($NF == "pipe" || $8 == "pipe") { skip = 1; next }
		$1 == "maildrop" || $1 == "uucp" || $1 == "ifmail" || $1 == "bsmtp" ||
		$1 == "scalemail-backend" || $1 == "mailman" { skip = 1; next }
		{ if (NF >= 8) $5 = "n"; print }
	' /etc/postfix/master.cf > "$dir/etc/master.cf"
	grep -q '^postlog' "$dir/etc/master.cf" ||
		echo "postlog unix-dgram n - n - 1 postlogd" >> "$dir/etc/master.cf"
	cat > "$dir/etc/main.cf" <<-MAINCF
	compatibility_level = 3.6
	queue_directory = $dir/queue
	data_directory = $dir/data
	mail_owner = postfix
	setgid_group = postdrop
	myhostname = mx.example.com
	mydomain = example.com
	myorigin = example.com
	mydestination =
	inet_interfaces = 127.0.0.1
	inet_protocols = ipv4
	mynetworks = 127.0.0.0/8
	relayhost = [127.0.0.1]:$sink
	smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
	alias_maps =
	alias_database =
	local_recipient_maps =
	biff = no
	smtp_tls_security_level = none
	smtpd_tls_security_level = none
	smtp_host_lookup = native
	smtpd_peername_lookup = no
	maillog_file = $dir/log/maillog
	maillog_file_prefixes = /var, /dev/stdout, $dir
	syslog_name = postfix-crmtest
	default_destination_rate_delay = 0
	in_flow_delay = 0
	smtpd_milters = $milter
	non_smtpd_milters = $milter
	milter_protocol = 6
	milter_default_action = accept
	milter_connect_timeout = 10s
	milter_command_timeout = 30s
	milter_content_timeout = 60s
	milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer} {daemon_name}
	MAINCF
}

pf_start() { postfix -c "$1/etc" start > "$1/log/start.out" 2>&1; }
pf_stop()  { postfix -c "$1/etc" stop > /dev/null 2>&1 || true; }

# pf_queue_count DIR - messages still in Postfix's queue
pf_queue_count() {
	find "$1/queue/maildrop" "$1/queue/incoming" "$1/queue/active" "$1/queue/deferred" \
		-type f 2> /dev/null | wc -l
}

pf_wait_empty() {
	local dir=$1 limit=${2:-60} i=0
	while [ "$(pf_queue_count "$dir")" -gt 0 ] && [ $i -lt $((limit * 5)) ]; do
		sleep 0.2; i=$((i + 1))
	done
	[ "$(pf_queue_count "$dir")" -eq 0 ]
}

SINK_PID=
sink_start() {
	mkdir -p "$1"
	chown nobody "$1"
	smtp-sink -u nobody -d "$1/%Y%m%d%H%M%S." "127.0.0.1:$2" 256 &
	SINK_PID=$!
}
sink_stop() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2> /dev/null && wait "$SINK_PID" 2> /dev/null
	SINK_PID=
}

# spool_put SPOOL N QUEUEID BODY MAILFROM RCPT [ORIGINATED] - message N
# into SPOOL/new as crmilter's milter side writes it: written aside, made
# the service user's, then renamed in, so the worker only sees it whole
spool_put() {
	local spool=$1 n=$2 qid=$3 body=$4 from=$5 rcpt=$6 orig=${7:-0}
	local name="$spool/new/$((1746518400 + n)).000000.1_$n.R$n" part="$spool/put.$n.tmp"
	{ printf 'CRMSPOOL1 %020d\n' $((31 + ${#body})); printf '%s' "$body"
	  printf 'queue-id %s\nmail-from %s\nrcpt %s\narrival 1746518400\noriginated %s\n' \
		"$qid" "$from" "$rcpt" "$orig"; } > "$part"
	chown "$CRM_USER" "$part"
	mv "$part" "$name"
}

CRM_PID=
# crm_start CONF LOG [ARGS...] - run crmilter -f; wait until its socket answers
crm_start() {
	local conf=$1 log=$2 i=0; shift 2
	# shellcheck disable=SC2086 # CRM_WRAPPER is a command and its options
	${CRM_WRAPPER:-} "$CRM_BUILD/crmilter" -f -c "$conf" -u "$CRM_USER" "$@" >> "$log" 2>&1 &
	CRM_PID=$!
	local tries=100
	[ -n "${CRM_WRAPPER:-}" ] && tries=1200	# a wrapper (valgrind) starts slowly
	local sock a prev=
	sock=$(sed -n 's/^Socket[[:space:]]*\(unix\|local\)://p' "$conf")
	for a in "$@"; do	# -p SPEC overrides the file
		[ "$prev" = "-p" ] && sock=$(printf '%s' "$a" | sed -n 's/^\(unix\|local\)://p')
		prev=$a
	done
	if [ -z "$sock" ]; then sleep 0.3; kill -0 "$CRM_PID" 2> /dev/null; return; fi
	while [ $i -lt $tries ]; do
		[ -S "$sock" ] && return 0
		kill -0 "$CRM_PID" 2> /dev/null || return 1
		sleep 0.05; i=$((i + 1))
	done
	return 1
}
crm_stop() {
	[ -n "$CRM_PID" ] || return 0
	kill "-${1:-TERM}" "$CRM_PID" 2> /dev/null
	wait "$CRM_PID" 2> /dev/null
	CRM_PID=
}
