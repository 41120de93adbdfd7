/*
 * main.c - crmview: the read-only web viewer and JSON API of the store
 *
 *   crmview [-c crmilter.conf] [-l ADDRESS:PORT] [-s] [-V] [--help]
 *
 * Reads crmilter.conf (Database, Domains, Viewer* keys), drops root for
 * UserID, checks that the store opens read-only and refuses writes, and
 * serves until SIGINT or SIGTERM.  It prints "crmview: listening on URL"
 * when ready (port 0 picks a free port).  -s logs to syslog instead of
 * stderr.  Exit status: 0 after a signal, 1 when it cannot start, 2 for a
 * usage or configuration error.
 */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view.h"

/* usage - the synopsis and options to F */
static void usage(FILE *f)
{
	fprintf(f, "usage: crmview [-c FILE] [-l ADDRESS:PORT] [-s] [-V]\n"
		   "\n"
		   "  -c FILE          configuration file (default " CONF_DEFAULT_PATH ")\n"
		   "  -l ADDRESS:PORT  listen here (overrides ViewerListen; port 0 picks a free one)\n"
		   "  -s               log to syslog instead of stderr\n"
		   "  -V, --version    print the version and exit\n"
		   "  -h, --help       this help\n"
		   "\n"
		   "SIGINT or SIGTERM stops it.  See crmview(8).\n");
}

/* drop_root - started as root: become UserID for good (never root) */
static void drop_root(const struct conf *c)
{
	struct passwd *pw;

	if (getuid() != 0 && geteuid() != 0)
		return;
	if (!c->user || !*c->user)
		msg_fatal("started as root without UserID: crmview refuses to run as root");
	pw = getpwnam(c->user);
	if (!pw)
		msg_fatal("UserID %s: no such user", c->user);
	if (pw->pw_uid == 0)
		msg_fatal("UserID %s is root: crmview refuses to run as root", c->user);
	if ((initgroups(c->user, pw->pw_gid) < 0 && setgroups(1, &pw->pw_gid) < 0) ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		msg_fatal("cannot become %s: %m", c->user);
	if (setuid(0) == 0 || geteuid() == 0)
		msg_fatal("still root after dropping privileges: crmview refuses to run");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL, *listen_at = NULL;
	struct view_server *srv = NULL;
	struct conf conf;
	char err[1024];
	sigset_t set;
	int opt, use_syslog = 0, sig = 0;

	while ((opt = getopt_long(argc, argv, "c:l:sVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'l': listen_at = optarg; break;
		case 's': use_syslog = 1; break;
		case 'V': printf("crmview %s\n", CRM_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (conf_load(conf_path, &conf, err, sizeof err) < 0) {
		fprintf(stderr, "crmview: %s\n", err);
		return 2;
	}
	if (listen_at) {
		free(conf.viewer_listen);
		conf.viewer_listen = xstrdup(listen_at);
	}
	log_open("crmview", use_syslog, conf.syslog_facility);
	drop_root(&conf);
	/* the signals are waited for here, not delivered to the server threads */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (view_start(&conf, &srv, err, sizeof err) < 0) {
		msg_warn("%s", err);
		conf_free(&conf);
		return 1;
	}
	{
		char url[300], host[256];
		const char *colon = strrchr(conf.viewer_listen, ':');
		size_t n = colon ? (size_t)(colon - conf.viewer_listen) : 0;

		snprintf(host, sizeof host, "%.*s", (int)(n < sizeof host ? n : 0), conf.viewer_listen);
		snprintf(url, sizeof url, "%s://%s:%u/", conf.viewer_tls_cert ? "https" : "http", host,
			 view_port(srv));
		msg_info("listening on %s (store %s, read-only)", url, conf.database);
	}
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		msg_info("SIGHUP: nothing to reload (the store is read on every request)");
	msg_info("stopping on signal %d", sig);
	view_stop(srv);
	conf_free(&conf);
	return 0;
}
