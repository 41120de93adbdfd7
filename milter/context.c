/*
 * context.c - the configuration in use and the per-connection and
 * per-message contexts
 *
 * The configuration is reference counted: SIGHUP loads a new one and
 * installs it under a lock; each connection keeps the one it started with
 * until it closes, and the worker picks up the new one between batches.
 * A configuration that fails to load (or names a bad InternalHosts range)
 * never replaces the one in use.
 *
 * Contexts follow OpenDKIM: a connection context (struct milter_conn) owns
 * at most one message context (struct milter_msg).  Callbacks reach the
 * connection only through milter_get_conn()/milter_set_conn().
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "milter_int.h"
#include "../ingest/ingest.h"

static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_cfg *cfg_current;
static unsigned cfg_generation;
static atomic_int active_msgs;      /* transactions between MAIL FROM and EOM/abort */

/* cfg_free - free a configuration that nobody references */
static void cfg_free(struct milter_cfg *cfg)
{
	conf_free(&cfg->conf);
	free(cfg->hosts);
	free(cfg->rules_warnings);
	free(cfg);
}

/* set_override - replace a string of the configuration by a command-line value */
static void set_override(char **field, const char *value)
{
	if (!value)
		return;
	free(*field);
	*field = xstrdup(value);
}

/*
 * check_domains_and_rules - what crmilter must not run without: Domains (else
 * every message's direction is wrong), and the rules the configuration names
 * loading well (else a typo would put the built-in rules in force).  Fills
 * cfg->rules_in_force (log line) and cfg->rules_state (SPOOL_RULES_STATE).
 * Returns 0, or -1 with the reason, or the rules' errors one a line, in err.
 */
static int check_domains_and_rules(struct milter_cfg *cfg, char *err, size_t errlen)
{
	const char *file = cfg->conf.path ? cfg->conf.path : CONF_DEFAULT_PATH;
	struct rules *r;

	if (!cfg->conf.domains.n) {
		snprintf(err, errlen, "%s: Domains is not set: crmilter cannot tell inbound from "
			 "outbound mail; set Domains to the company's own domains", file);
		return -1;
	}
	if (ingest_load_rules(&cfg->conf, &r, err, errlen) < 0)
		return -1;
	if (ingest_rules_lint(&cfg->conf, r, NULL, &cfg->rules_warnings) < 0) {
		rules_unref(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ingest_rules_describe(r, cfg->rules_in_force, sizeof cfg->rules_in_force);
	snprintf(cfg->rules_state, sizeof cfg->rules_state, "%s\n%s\n%zu\n%lld\n",
		 rules_path(r) ? rules_path(r) : "-", rules_sha256(r), rules_count(r),
		 (long long)time(NULL));
	rules_unref(r);
	return 0;
}

/* milter_cfg_load - see milter_int.h */
struct milter_cfg *milter_cfg_load(const char *path, const struct milter_overrides *ov,
				   char *err, size_t errlen)
{
	struct milter_cfg *cfg = xcalloc(1, sizeof *cfg);
	if (conf_load(path, &cfg->conf, err, errlen) < 0) {
		free(cfg);
		return NULL;
	}
	if (ov) {
		set_override(&cfg->conf.socket, ov->socket);
		set_override(&cfg->conf.user, ov->user);
		set_override(&cfg->conf.pidfile, ov->pidfile);
	}
	cfg->n_hosts = cfg->conf.internal_hosts.n;
	cfg->hosts = xcalloc(cfg->n_hosts ? cfg->n_hosts : 1, sizeof *cfg->hosts);
	for (size_t i = 0; i < cfg->n_hosts; i++) {
		const char *word = cfg->conf.internal_hosts.v[i];
		if (milter_cidr_parse(word, &cfg->hosts[i]) < 0) {
			unsigned line = conf_key_line(cfg->conf.path, "InternalHosts", word);
			if (line)
				snprintf(err, errlen, "%s:%u: not an address or CIDR range: %s",
					 cfg->conf.path, line, word);
			else
				snprintf(err, errlen, "%s: InternalHosts: not an address or CIDR range: %s",
					 cfg->conf.path ? cfg->conf.path : "(defaults)", word);
			cfg_free(cfg);
			return NULL;
		}
	}
	if (check_domains_and_rules(cfg, err, errlen) < 0) {
		cfg_free(cfg);
		return NULL;
	}
	cfg->refs = 1;
	return cfg;
}

/* milter_cfg_install - see milter_int.h */
void milter_cfg_install(struct milter_cfg *cfg)
{
	pthread_mutex_lock(&cfg_lock);
	struct milter_cfg *old = cfg_current;
	cfg->generation = ++cfg_generation;
	cfg_current = cfg;
	pthread_mutex_unlock(&cfg_lock);
	milter_cfg_put(old);
}

/* milter_cfg_get - see milter_int.h */
struct milter_cfg *milter_cfg_get(void)
{
	pthread_mutex_lock(&cfg_lock);
	struct milter_cfg *cfg = cfg_current;
	if (cfg)
		cfg->refs++;
	pthread_mutex_unlock(&cfg_lock);
	return cfg;
}

/* milter_cfg_put - see milter_int.h */
void milter_cfg_put(struct milter_cfg *cfg)
{
	if (!cfg)
		return;
	pthread_mutex_lock(&cfg_lock);
	int last = --cfg->refs == 0;
	pthread_mutex_unlock(&cfg_lock);
	if (last)
		cfg_free(cfg);
}

/* milter_cfg_generation - see milter_int.h */
unsigned milter_cfg_generation(void)
{
	pthread_mutex_lock(&cfg_lock);
	unsigned g = cfg_generation;
	pthread_mutex_unlock(&cfg_lock);
	return g;
}

/* ---- contexts ---- */

/* milter_conn_new - see milter_int.h */
struct milter_conn *milter_conn_new(void)
{
	struct milter_conn *conn = calloc(1, sizeof *conn);
	if (!conn)
		return NULL;
	conn->cfg = milter_cfg_get();
	return conn;
}

/* milter_msg_new - see milter_int.h */
struct milter_msg *milter_msg_new(void)
{
	struct milter_msg *msg = calloc(1, sizeof(struct milter_msg));
	if (msg)
		atomic_fetch_add(&active_msgs, 1);
	return msg;
}

/* milter_active_messages - see milter_int.h */
int milter_active_messages(void)
{
	return atomic_load(&active_msgs);
}

/* milter_msg_free - see milter_int.h */
void milter_msg_free(struct milter_msg *msg)
{
	if (!msg)
		return;
	atomic_fetch_sub(&active_msgs, 1);
	spool_abandon(msg->file);
	milter_env_clear(&msg->env);
	free(msg->message_id);
	free(msg);
}

/* milter_conn_free - see milter_int.h */
void milter_conn_free(struct milter_conn *conn)
{
	if (!conn)
		return;
	milter_msg_free(conn->msg);
	free(conn->client_name);
	free(conn->client_addr);
	free(conn->daemon_name);
	milter_cfg_put(conn->cfg);
	free(conn);
}

/* milter_get_conn - the connection context of CTX, or NULL */
struct milter_conn *milter_get_conn(SMFICTX *ctx)
{
	return ctx ? smfi_getpriv(ctx) : NULL;
}

/* milter_set_conn - attach CONN (or NULL) to CTX */
void milter_set_conn(SMFICTX *ctx, struct milter_conn *conn)
{
	if (ctx)
		smfi_setpriv(ctx, conn);
}
