/*
 * main.c - crmilter: options, daemon life, privileges and signals
 *
 * crmilter [-c FILE] [-f] [-s] [-p SOCKET] [-u USER] [-P PIDFILE] [-v] [-V] [--help]
 *
 * Files are created with umask 027: the store and the spool hold mail
 * and are never readable by other users.
 *
 * Start-up opens everything that may need privilege first: the
 * configuration, the spool (created and given to the service user), the
 * milter socket and the store (opened as the service user, so the files it
 * creates belong to it); then it drops to UserID for good and refuses to
 * go on as root.  Then the ingest worker starts and libmilter's loop runs in
 * its own thread, while the main thread waits for signals:
 *
 *   SIGHUP   reload crmilter.conf; a bad file keeps the configuration in use
 *            and logs FILE:LINE: error; connections keep the one they began
 *            with, none is dropped
 *   SIGTERM, SIGINT   stop accepting connections, let the worker finish its
 *            batch, remove the pid file and the unix socket (when still
 *            ours), exit
 *
 * libmilter's own signal thread would also wait for SIGHUP and SIGTERM and
 * stop the loop; it is kept waiting for ever (signals.c), so that a second
 * SIGHUP during a reload never ends the milter.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "milter_int.h"
#include "../storage/store.h"

#define MALLOC_MMAP_AT (1024 * 1024)   /* blocks this large are mapped */
#define MALLOC_TRIM_AT (1024 * 1024)   /* free heap above this goes back */

struct daemon {
	const char *conf_path;          /* -c, made absolute; NULL: the default */
	struct milter_overrides ov;
	int foreground;
	int verbose;
	int use_syslog;
	int syslog_fg;                  /* -s: syslog in the foreground too */
	int as_root;                    /* started as root: drops to uid/gid */
	uid_t uid;
	gid_t gid;
	char *unix_path;                /* the socket's path for a unix socket */
	dev_t sock_dev;                 /* and the socket file crmilter made there */
	ino_t sock_ino;
	char *socket;                   /* the socket as opened (inet: with its address) */
	pthread_t main_tid, milter_tid;
	int milter_rc;
	struct spool *spool;
};

static struct daemon d;

/* usage - print the synopsis to F */
static void usage(FILE *f)
{
	fprintf(f, "usage: crmilter [-c FILE] [-f] [-s] [-p SOCKET] [-u USER] [-P PIDFILE] [-v] [-V]\n"
		   "\n"
		   "  -c FILE     configuration file (default " CONF_DEFAULT_PATH ")\n"
		   "  -f          stay in the foreground and log to stderr\n"
		   "  -s          log to syslog in the foreground too (as under systemd)\n"
		   "  -p SOCKET   milter socket: unix:/path, local:/path, inet:PORT@HOST,\n"
		   "              inet6:PORT@HOST (overrides Socket)\n"
		   "  -u USER     user to run as after start-up (overrides UserID)\n"
		   "  -P PIDFILE  write the process id here (overrides PidFile)\n"
		   "  -v          verbose: log each spooled message too\n"
		   "  -V          print the version and exit\n"
		   "  -h, --help  this help\n"
		   "\n"
		   "Signals: SIGHUP reloads the configuration, SIGTERM stops.\n");
}

/* unix_socket_path - the file of a unix:/local: socket spec, or NULL */
static const char *unix_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/* resolve_user - decide who we run as; fatal when that would be root */
static void resolve_user(const struct conf *c)
{
	d.as_root = geteuid() == 0 || getuid() == 0;
	if (!d.as_root) {
		struct passwd *me = getpwuid(getuid());
		if (c->user && me && strcmp(c->user, me->pw_name) != 0)
			msg_warn("not started as root: running as %s, UserID %s not used",
				 me->pw_name, c->user);
		d.uid = getuid();
		d.gid = getgid();
		return;
	}
	if (!c->user || !*c->user)
		msg_fatal("started as root without UserID: crmilter refuses to run as root");
	struct passwd *pw = getpwnam(c->user);
	if (!pw)
		msg_fatal("UserID %s: no such user", c->user);
	if (pw->pw_uid == 0)
		msg_fatal("UserID %s is root: crmilter refuses to run as root", c->user);
	d.uid = pw->pw_uid;
	d.gid = pw->pw_gid;
}

/* open_spool - open (create) the spool, lock it, give it to the service user */
static struct spool *open_spool(const struct conf *c)
{
	char err[1024];
	struct spool *sp;
	if (!c->spool || !*c->spool)
		msg_fatal("SpoolDirectory is empty");
	if (spool_open(c->spool, 1, &sp, err, sizeof err) < 0)
		msg_fatal("spool: %s", err);
	if (spool_lock(sp, err, sizeof err) < 0)
		msg_fatal("spool: %s", err);
	if (d.as_root && spool_chown(sp, d.uid, d.gid) < 0)
		msg_fatal("spool %s: cannot give it to uid %ld: %m", c->spool, (long)d.uid);
	size_t n = spool_clean_tmp(sp);
	if (n)
		msg_info("spool %s: removed %zu unfinished file%s from tmp/ (never accepted)",
			 c->spool, n, n == 1 ? "" : "s");
	return sp;
}

/* is_inet - SPEC is a TCP socket (inet: or inet6:) */
static int is_inet(const char *spec)
{
	return strncasecmp(spec, "inet:", 5) == 0 || strncasecmp(spec, "inet6:", 6) == 0;
}

/*
 * loopback_spec - SPEC, with the loopback address added to "inet:PORT" and
 * "inet6:PORT" (libmilter would listen on every address: whoever reaches
 * the port could write records).  Returns a new string.
 */
static char *loopback_spec(const char *spec)
{
	char *out;

	if (!is_inet(spec) || strchr(spec, '@'))
		return xstrdup(spec);
	out = xmalloc(strlen(spec) + 16);
	sprintf(out, "%s@%s", spec, strncasecmp(spec, "inet6:", 6) == 0 ? "::1" : "127.0.0.1");
	return out;
}

/* open_socket - set up and open the milter socket, guarded (guard.c): a
 * unix socket is given to the service user with mode 0660 and the group of
 * its directory; a TCP one without an address listens on loopback */
static void open_socket(const struct conf *c)
{
	char err[512];

	if (!c->socket || !*c->socket)
		msg_fatal("no milter socket: set Socket or use -p");
	d.socket = loopback_spec(c->socket);
	if (milter_guard_init(c, is_inet(d.socket), err, sizeof err) < 0)
		msg_fatal("%s", err);
	if (smfi_setconn(d.socket) != MI_SUCCESS)
		msg_fatal("socket %s: not a milter socket specification", c->socket);
	if (milter_register() < 0)
		msg_fatal("smfi_register failed");
	const char *path = unix_socket_path(c->socket);
	if (smfi_opensocket(true) != MI_SUCCESS)
		msg_fatal("socket %s: cannot open it (is the directory there and writable, "
			  "the port free?)", c->socket);
	if (!path)
		return;
	d.unix_path = xstrdup(path);
	struct stat st;
	/* the socket libmilter made, never what a link put in its place points to */
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		msg_fatal("socket %s: not the socket crmilter made", path);
	d.sock_dev = st.st_dev;
	d.sock_ino = st.st_ino;
	if (d.as_root) {
		char *copy = xstrdup(path);
		struct stat dir;
		gid_t group = stat(dirname(copy), &dir) == 0 ? dir.st_gid : d.gid;
		free(copy);
		if (lchown(path, d.uid, group) < 0)
			msg_warn("socket %s: chown: %m", path);
	}
	if (fchmodat(AT_FDCWD, path, 0660, AT_SYMLINK_NOFOLLOW) < 0)
		msg_warn("socket %s: chmod: %m", path);
}

/* daemonize - go to the background, detached from the terminal */
static void daemonize(void)
{
	pid_t pid = fork();
	if (pid < 0)
		msg_fatal("fork: %m");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		msg_fatal("setsid: %m");
	if (chdir("/") < 0)
		msg_fatal("chdir /: %m");
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/*
 * open_log - where log lines go: LogFile when set (made the service
 * user's, so a reload can reopen it; exits 2 when it cannot be opened),
 * else syslog in the background or with -s, else stderr.  Syslog without
 * a daemon on /dev/log would drop every line: that is said on stderr
 * before crmilter leaves the terminal.
 */
static void open_log(const struct conf *c)
{
	d.use_syslog = !d.foreground || d.syslog_fg;
	if (c->log_file) {
		if (log_open_file(c->log_file, d.as_root ? d.uid : (uid_t)-1, d.gid) < 0) {
			fprintf(stderr, "crmilter: LogFile %s: %s\n", c->log_file, strerror(errno));
			exit(2);
		}
		return;
	}
	if (d.use_syslog && !log_syslog_reachable())
		fprintf(stderr, "crmilter: warning: no syslog daemon listens on /dev/log: log lines "
			"will be lost; set LogFile in the configuration, or run one\n");
}

/*
 * write_pidfile - write our pid; a failure to write is only a warning, but a
 * pid file that is a symbolic link or not a regular file is fatal: it is
 * never followed, written or given to the service user
 */
static void write_pidfile(const struct conf *c)
{
	char line[32];
	struct stat st;
	int fd, n;

	if (!c->pidfile || !*c->pidfile)
		return;
	fd = open(c->pidfile, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ELOOP)
		msg_fatal("pid file %s: is a symbolic link: remove it", c->pidfile);
	if (fd < 0) {
		msg_warn("pid file %s: %m", c->pidfile);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		msg_fatal("pid file %s: not a regular file: remove it", c->pidfile);
	n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, line, (size_t)n) != n)
		msg_warn("pid file %s: %m", c->pidfile);
	if (d.as_root && fchown(fd, d.uid, d.gid) < 0)
		msg_warn("pid file %s: chown: %m", c->pidfile);
	if (close(fd) != 0)
		msg_warn("pid file %s: %m", c->pidfile);
}

/*
 * remove_own_files - at a clean stop, remove the pid file when it still
 * names this process and the unix socket when it is still the one
 * open_socket made (a crmilter started since keeps its own).  Runs as the
 * service user: a directory it may not write keeps the file, with a warning.
 */
static void remove_own_files(const struct conf *c)
{
	struct stat st;
	size_t len;
	char *text;

	if (c->pidfile && *c->pidfile && (text = read_file(c->pidfile, 64, &len)) != NULL) {
		char *end;
		long pid = strtol(text, &end, 10);
		if (end != text && (*end == '\n' || *end == '\0') && pid == (long)getpid() &&
		    unlink(c->pidfile) < 0)
			msg_warn("pid file %s: cannot remove it: %m (its directory must be %s's)",
				 c->pidfile, c->user ? c->user : "the service user");
		free(text);
	}
	if (d.unix_path && lstat(d.unix_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == d.sock_dev && st.st_ino == d.sock_ino && unlink(d.unix_path) < 0)
		msg_warn("socket %s: cannot remove it: %m (its directory must be %s's)",
			 d.unix_path, c->user ? c->user : "the service user");
}

/* open_store - open the store as the service user; a failure only delays ingestion */
static void open_store(const struct conf *c)
{
	char err[1024];
	int rc;
	if (d.as_root) {
		if (setegid(d.gid) < 0 || seteuid(d.uid) < 0)
			msg_fatal("cannot switch to uid %ld: %m", (long)d.uid);
		rc = milter_worker_open(err, sizeof err);
		if (seteuid(0) < 0 || setegid(0) < 0)
			msg_fatal("cannot switch back to root: %m");
	} else {
		rc = milter_worker_open(err, sizeof err);
	}
	if (rc != STORE_OK)
		msg_warn("store %s: %s: mail is spooled and ingested once the store opens",
			 store_strerror(rc), err);
	(void)c;
}

/* drop_privileges - become the service user for good; fatal if still root */
static void drop_privileges(const struct conf *c)
{
	if (d.as_root) {
		if (initgroups(c->user, d.gid) < 0 && setgroups(1, &d.gid) < 0)
			msg_fatal("setgroups: %m");
		if (setgid(d.gid) < 0)
			msg_fatal("setgid(%ld): %m", (long)d.gid);
		if (setuid(d.uid) < 0)
			msg_fatal("setuid(%ld): %m", (long)d.uid);
	}
	if (getuid() == 0 || geteuid() == 0 || (d.as_root && setuid(0) == 0))
		msg_fatal("still root after dropping privileges: crmilter refuses to run as root");
}

/* milter_thread - run libmilter's loop; tell the main thread when it ends */
static void *milter_thread(void *arg)
{
	(void)arg;
	d.milter_rc = smfi_main();
	pthread_kill(d.main_tid, SIGUSR2);
	return NULL;
}

/* stopper_thread - smfi_stop() waits for libmilter's listener to leave its
 * poll (up to 5 s); run it aside so shutdown does not wait for that */
static void *stopper_thread(void *arg)
{
	(void)arg;
	smfi_stop();
	return NULL;
}

/* differ - do two optional strings differ? */
static int differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* warn_lines - log each line of TEXT as a warning */
static void warn_lines(const char *text)
{
	for (const char *p = text, *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		msg_warn("%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
	}
}

/* note_rules - log the rules CFG puts in force, and leave them in the spool
 * for crmctl status */
static void note_rules(const struct milter_cfg *cfg)
{
	if (cfg->rules_warnings)
		warn_lines(cfg->rules_warnings);
	msg_info("rules in force: %s", cfg->rules_in_force);
	if (spool_state_write(d.spool, SPOOL_RULES_STATE, cfg->rules_state) < 0)
		msg_warn("%s/%s: %m: crmctl status cannot tell which rules are in force",
			 spool_dir(d.spool), SPOOL_RULES_STATE);
}

/* reload - SIGHUP: load the configuration again; keep the old one on error */
static void reload(void)
{
	char err[65536];
	struct milter_cfg *n = milter_cfg_load(d.conf_path, &d.ov, err, sizeof err);
	if (!n) {
		warn_lines(err);
		msg_warn("%s: not reloaded: keeping the configuration and rules in use",
			 d.conf_path ? d.conf_path : CONF_DEFAULT_PATH);
		return;
	}
	struct milter_cfg *cur = milter_cfg_get();
	if (differ(cur->conf.socket, n->conf.socket))
		msg_warn("Socket changed: takes effect on restart");
	if (differ(cur->conf.spool, n->conf.spool))
		msg_warn("SpoolDirectory changed: takes effect on restart");
	if (differ(cur->conf.user, n->conf.user))
		msg_warn("UserID changed: takes effect on restart");
	if (d.use_syslog && cur->conf.syslog_facility != n->conf.syslog_facility)
		log_open("crmilter", 1, n->conf.syslog_facility);
	if (n->conf.log_file && log_open_file(n->conf.log_file, (uid_t)-1, (gid_t)-1) < 0)
		msg_warn("LogFile %s: %m: still logging where it did", n->conf.log_file);
	else if (differ(cur->conf.log_file, n->conf.log_file) && !n->conf.log_file)
		msg_warn("LogFile removed: takes effect on restart");
	milter_cfg_put(cur);
	milter_cfg_install(n);
	msg_info("configuration reloaded from %s", d.conf_path ? d.conf_path : CONF_DEFAULT_PATH);
	note_rules(n);
	milter_worker_wake();
}

/* absolute - PATH made absolute against the working directory (we chdir to /) */
static const char *absolute(const char *path)
{
	char buf[PATH_MAX];
	if (!path || path[0] == '/')
		return path;
	if (!getcwd(buf, sizeof buf))
		return path;
	size_t n = strlen(buf) + strlen(path) + 2;
	char *abs = xmalloc(n);
	snprintf(abs, n, "%s/%s", buf, path);
	return abs;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char err[65536];
	int c;

	/* everything we create (store, its -wal/-shm, spool files, pid file) is
	 * for the service user and its group only: SQLite would make 0644 */
	umask(027);
	/* fixed thresholds (glibc would raise them to the largest block ever
	 * freed): a large message's buffers of 1 MB and more are mapped and
	 * unmapped, and free space over 1 MB at the top of a heap is given
	 * back, so the daemon's size at rest does not keep the biggest
	 * message it ever saw */
	mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_AT);
	mallopt(M_TRIM_THRESHOLD, MALLOC_TRIM_AT);
	log_open("crmilter", 0, 0);
	while ((c = getopt_long(argc, argv, "c:fsp:u:P:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': d.conf_path = optarg; break;
		case 'f': d.foreground = 1; break;
		case 's': d.syslog_fg = 1; break;
		case 'p': d.ov.socket = optarg; break;
		case 'u': d.ov.user = optarg; break;
		case 'P': d.ov.pidfile = optarg; break;
		case 'v': d.verbose = 1; break;
		case 'V': printf("crmilter %s\n", CRM_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	d.conf_path = absolute(d.conf_path);
	log_set_verbose(d.verbose);
	struct milter_cfg *cfg = milter_cfg_load(d.conf_path, &d.ov, err, sizeof err);
	if (!cfg) {
		for (char *p = err, *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
			nl = strchr(p, '\n');
			fprintf(stderr, "crmilter: %.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
		}
		return 2;
	}
	milter_cfg_install(cfg);
	const struct conf *conf = &cfg->conf;	/* ours until exit: the start-up configuration */
	cfg = milter_cfg_get();

	/* blocked from the start, before the socket exists: a SIGHUP or SIGTERM
	 * that comes while the store opens (a migration can take a while) waits
	 * for the loop below instead of killing a half-started daemon */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	resolve_user(conf);
	open_log(conf);
	struct spool *sp = open_spool(conf);
	open_socket(conf);
	if (!d.foreground)
		daemonize();
	log_open("crmilter", d.use_syslog, conf->syslog_facility);
	write_pidfile(conf);
	open_store(conf);
	drop_privileges(conf);

	signal(SIGPIPE, SIG_IGN);
	d.main_tid = pthread_self();

	d.spool = sp;
	note_rules(cfg);
	milter_set_spool(sp);
	if (milter_worker_start(sp) < 0)
		msg_fatal("cannot start the ingest worker: %m");
	if (milter_guard_start() < 0)
		msg_fatal("cannot start the milter connection watchdog");
	if (pthread_create(&d.milter_tid, NULL, milter_thread, NULL) != 0)
		msg_fatal("cannot start the milter thread");
	msg_info("crmilter %s started: socket %s, spool %s, store %s, user %ld", CRM_VERSION,
		 d.socket, conf->spool, conf->database, (long)getuid());

	int stopped_by_us = 0;
	for (;;) {
		int sig = 0;
		if (milter_sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload();
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT) {
			msg_info("stopping on signal %d: no new connections, finishing the batch", sig);
			pthread_t stopper;
			if (pthread_create(&stopper, NULL, stopper_thread, NULL) == 0)
				pthread_detach(stopper);
			stopped_by_us = 1;
		}
		break;
	}
	if (stopped_by_us) {
		/* libmilter's loop only notices the stop at its next poll timeout:
		 * rather than wait for it, wait (at most 5 s) for the messages in
		 * progress to reach EOM; whatever is cut off here was never
		 * accepted and the MTA's default action passes it */
		for (int i = 0; i < 100 && milter_active_messages() > 0; i++)
			usleep(50 * 1000);
		if (milter_active_messages() > 0)
			msg_warn("%d message%s still in progress at exit: passed unlogged",
				 milter_active_messages(), milter_active_messages() == 1 ? "" : "s");
	} else {
		/* nothing but our own stop may end the loop: an MTA left without
		 * its milter passes mail unlogged, so say so and exit non-zero
		 * (the unit restarts crmilter) */
		pthread_join(d.milter_tid, NULL);
		msg_warn("the milter loop ended unasked (status %d): exiting for a restart",
			 d.milter_rc);
		d.milter_rc = MI_FAILURE;
	}
	milter_guard_stop();
	milter_worker_stop();
	remove_own_files(conf);
	/* the spool stays open, and locked, until the process is gone: a new
	 * crmilter cannot start on it while libmilter here is still winding down */
	msg_info("stopped");
	milter_cfg_put(cfg);
	return d.milter_rc == MI_SUCCESS ? 0 : 1;
}
