/*
 * milter_int.h - private to milter/: what the daemon's files share
 *
 * crmilter is split into one file per job: main.c (options, daemon life,
 * privileges, signals), callbacks.c (the libmilter callbacks), context.c
 * (connection and message contexts, the reference-counted configuration),
 * envelope.c (envelope capture and direction), cidr.c (InternalHosts),
 * spool.c (the durable spool, public in spool.h) and worker.c (the ingest
 * worker thread).  Nothing outside milter/ includes this header.
 */
#ifndef CRM_MILTER_INT_H
#define CRM_MILTER_INT_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../common/common.h"
#include "spool.h"

/* caps on what one message may make us hold in memory */
#define MILTER_MAX_RCPTS        10000    /* envelope recipients kept */
#define MILTER_MAX_ADDR         1024     /* bytes of one envelope address */
#define MILTER_MAX_REPLY_RCPTS  4        /* ReplyAddress recipients taken out of one message */
#define MILTER_MAX_MACRO        256      /* bytes of one macro value */
#define MILTER_MAX_HEADER_BYTES (8u * 1024 * 1024) /* header block kept */
#define MILTER_MAX_MSGID        998      /* Message-ID kept for the log */

/* ---- cidr.c: address ranges for InternalHosts ---- */

struct milter_cidr {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char addr[16];     /* network bytes, masked */
	int bits;                   /* prefix length */
};

/*
 * milter_cidr_parse - parse "1.2.3.0/24", "::1/128" or a bare address
 * (a host: /32 or /128) into *out.  Returns 0, or -1 when the text is not
 * an address or the prefix is out of range.
 */
int milter_cidr_parse(const char *text, struct milter_cidr *out);

/*
 * milter_cidr_match - is the address in any range of the list?  addr is a
 * sockaddr (AF_INET, AF_INET6; IPv4-mapped IPv6 counts as IPv4); NULL or
 * another family never matches.  Returns 1 or 0.
 */
int milter_cidr_match(const struct milter_cidr *list, size_t n, const struct sockaddr *addr);

/*
 * milter_sigwait - sigwait(3) for crmilter's main thread, the only one that
 * takes signals (libmilter's own signal thread is kept waiting: signals.c).
 * Returns 0 with the signal in *sig, or an error number.
 */
int milter_sigwait(const sigset_t *set, int *sig);

/* ---- the guard of the milter socket (guard.c) ---- */

/*
 * milter_guard_init - set up the guard from C: MilterPeers (applied when
 * INET, the socket is TCP) and MilterConnections (capped below the
 * descriptor limit).  Before the milter loop starts.  Returns 0, or -1 with
 * the reason in err.
 */
int milter_guard_init(const struct conf *c, int inet, char *err, size_t errlen);
/* milter_guard_start - start the watchdog that drops silent connections; 0 or -1 */
int milter_guard_start(void);
/* milter_guard_stop - stop the watchdog; fine when never started */
void milter_guard_stop(void);
/* milter_guard_count - milter connections open now */
size_t milter_guard_count(void);

/* milter_cidr_match_text - the same for an address written as text */
int milter_cidr_match_text(const struct milter_cidr *list, size_t n, const char *addr);

/* ---- context.c: the configuration shared by connections and the worker ---- */

/* one loaded configuration: connections keep a reference to the one they began with */
struct milter_cfg {
	int refs;                       /* under the cfg lock */
	unsigned generation;            /* 1, 2, ... one per successful load */
	struct conf conf;
	struct milter_cidr *hosts;      /* InternalHosts parsed */
	size_t n_hosts;
	char rules_in_force[4400];      /* "FILE, sha256 HEX, N rules", for the log */
	char rules_state[4400];         /* the same for crmctl status (SPOOL_RULES_STATE) */
	char *rules_warnings;           /* rules_lint() lines, or NULL */
};

/* the command-line overrides that outlive reloads */
struct milter_overrides {
	const char *socket;
	const char *user;
	const char *pidfile;
};

/*
 * milter_cfg_load - read PATH (NULL: the default file) into a new
 * configuration with the overrides applied and InternalHosts parsed; it
 * must set Domains, and the rules it names must load (checked here, so that
 * start-up fails and a reload keeps what is in use).  Returns it with one
 * reference, or NULL with "FILE:LINE: reason" (lines of them) in err.
 */
struct milter_cfg *milter_cfg_load(const char *path, const struct milter_overrides *ov,
				   char *err, size_t errlen);

/* milter_cfg_install - make CFG current (takes its reference); the old one is released */
void milter_cfg_install(struct milter_cfg *cfg);

/* milter_cfg_get - a new reference to the current configuration (never NULL once installed) */
struct milter_cfg *milter_cfg_get(void);

/* milter_cfg_put - drop a reference; the last one frees; NULL is fine */
void milter_cfg_put(struct milter_cfg *cfg);

/* milter_cfg_generation - the generation of the current configuration */
unsigned milter_cfg_generation(void);

/* ---- envelope.c: what the MTA told us about one message ---- */

/* the envelope kept for one message; every string is owned by it */
struct milter_env {
	char *mail_from;                /* "" for the null sender */
	char **rcpts;                   /* normalised, in order, no duplicates */
	size_t n_rcpts, cap_rcpts;
	int rcpts_dropped;              /* more than MILTER_MAX_RCPTS were given */
	char *queue_id;
	char *auth_authen;
	char *daemon_name;
	int64_t arrival;                /* MAIL FROM time */
	char *reply_raw[MILTER_MAX_REPLY_RCPTS]; /* ReplyAddress recipients as the MTA gave
					   them (for smfi_delrcpt); never in rcpts */
	size_t n_reply_raw;
	char *reply_tag;                /* the first non-empty tag among them, or NULL */
};

/* milter_env_clear - free what an envelope holds and zero it */
void milter_env_clear(struct milter_env *env);

/*
 * milter_env_set_from - record MAIL FROM (angle brackets and ESMTP
 * arguments are not part of it).  Returns 0, or -1 when memory is short.
 */
int milter_env_set_from(struct milter_env *env, const char *arg);

/*
 * milter_env_add_rcpt - record one RCPT TO, normalised; a repeat is kept
 * once and more than MILTER_MAX_RCPTS are counted as dropped.  REPLY_ADDRESS
 * (ReplyAddress, may be NULL) and its tagged forms are not recipients:
 * they go to reply_raw and reply_tag instead.  Returns 0 or -1 when memory
 * is short.
 */
int milter_env_add_rcpt(struct milter_env *env, const char *arg, const char *reply_address);

/* milter_set_str - replace *dst by a copy of SRC capped at MAX bytes (NULL clears); 0 or -1 */
int milter_set_str(char **dst, const char *src, size_t max);

/*
 * milter_originated - did our side send this message?  1 when the client
 * authenticated, when daemon_name equals the configured originating name,
 * or when the client address is one of InternalHosts; else 0.
 */
int milter_originated(const struct milter_cfg *cfg, const char *auth_authen,
		      const char *daemon_name, const struct sockaddr *client);

/* milter_direction_name - "inbound", "outbound" or "internal" */
const char *milter_direction_name(int direction);

/* ---- context.c: connection and message contexts (OpenDKIM's cctx/mctx) ---- */

struct milter_msg;

/* one SMTP connection: lives from negotiate/connect to close */
struct milter_conn {
	struct milter_cfg *cfg;         /* the configuration it started with (a reference) */
	char *client_name;              /* as the MTA names the client */
	char *client_addr;              /* numeric, or NULL (unknown family) */
	struct sockaddr_storage addr;   /* for InternalHosts */
	int have_addr;
	char *daemon_name;              /* {daemon_name} seen at connect */
	unsigned long n_msgs;           /* transactions so far */
	unsigned long pflags;           /* protocol flags negotiated (SMFIP_*) */
	unsigned long mta_actions;      /* modification actions negotiated (SMFIF_*) */
	struct milter_msg *msg;         /* the transaction in progress, or NULL */
};

/* one transaction: from MAIL FROM to EOM or abort */
struct milter_msg {
	struct milter_env env;
	char *message_id;               /* from the header, for the log */
	struct spool_file *file;        /* NULL until the first header, or after a failure */
	int spool_failed;               /* writing failed: the message is accepted unlogged */
	int headers_only;               /* MaxSpoolSize reached: keep the header only */
	int truncated;                  /* MaxMessageSize reached or a cap hit */
	int in_body;                    /* the header/body separator is written */
	uint64_t header_bytes;          /* header bytes written */
	uint64_t size;                  /* bytes the MTA sent us */
};

/* milter_conn_new - a connection context with a reference to the current config; NULL on ENOMEM */
struct milter_conn *milter_conn_new(void);

/* milter_conn_free - free a connection, its transaction and its config reference; NULL is fine */
void milter_conn_free(struct milter_conn *conn);

/* milter_msg_new - a zeroed transaction; NULL on ENOMEM */
struct milter_msg *milter_msg_new(void);

/* milter_msg_free - free a transaction (abandoning its tmp file); NULL is fine */
void milter_msg_free(struct milter_msg *msg);

/* milter_active_messages - transactions in progress in all connections */
int milter_active_messages(void);

/* milter_get_conn - the connection context of a libmilter context, or NULL */
struct smfi_str;
struct milter_conn *milter_get_conn(struct smfi_str *ctx);

/* milter_set_conn - attach a connection context (or NULL) to a libmilter context */
void milter_set_conn(struct smfi_str *ctx, struct milter_conn *conn);

/* ---- worker.c: the ingest worker thread ---- */

/*
 * milter_worker_open - open the store pipeline now (main calls it before
 * dropping privileges, as the service user).  Returns 0 or a store_err
 * class with err filled; on failure the worker retries by itself.
 */
int milter_worker_open(char *err, size_t errlen);

/* milter_worker_start - start the thread that drains SP into the store; 0 or -1 (errno) */
int milter_worker_start(struct spool *sp);

/* milter_worker_wake - tell the worker a new file is in new/ (cheap; from any thread) */
void milter_worker_wake(void);

/*
 * milter_worker_stop - ask the worker to finish its batch and exit, then
 * join it.  Files not stored stay in the spool for the next run.
 */
void milter_worker_stop(void);

/* ---- purge.c: the daily retention purge ---- */

/*
 * milter_purge_maybe - from the worker thread between batches: when
 * Retention is set and no purge ran for a day, delete the mail older than
 * it (store_purge).  Cheap when there is nothing to do; logs what it did.
 */
void milter_purge_maybe(void);

/* ---- callbacks.c ---- */

/* milter_register - smfi_register our callbacks; 0 or -1 */
int milter_register(void);

/* milter_set_spool - the spool the callbacks write to (set once before smfi_main) */
void milter_set_spool(struct spool *sp);

#endif
