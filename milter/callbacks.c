/*
 * callbacks.c - the libmilter callbacks: collect each message into the spool
 *
 * crmilter never changes, rejects or delays mail.  It registers with no
 * modification flags; negotiate turns off the steps it does not use (HELO,
 * DATA, unknown commands, end of header) and asks for no reply on connect,
 * MAIL, RCPT, header and body (SMFIP_NR_*), so the MTA never waits for it
 * before end of message, and for the header's leading space
 * (SMFIP_HDR_LEADSPC) so that headers are rebuilt byte for byte.
 *
 * Headers and body chunks stream into a tmp/ spool file as they arrive; at
 * end of message the envelope is appended and the file made durable in
 * new/ (spool_commit) before EOM answers ACCEPT.  Any failure is logged and
 * the message is accepted all the same.  Contexts: negotiate or connect
 * makes the connection context, MAIL FROM the message context; abort frees
 * the message only, close frees the connection; every callback copes with
 * a missing context (close without connect, RCPT without MAIL...).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "milter_int.h"

/* the steps we turn off and the replies we do not send */
#define WANT_PFLAGS (SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_NOEOH | \
		     SMFIP_HDR_LEADSPC | SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
		     SMFIP_NR_HDR | SMFIP_NR_BODY)

static struct spool *cb_spool;
static atomic_int spool_over;      /* MaxSpoolSize was exceeded (warned once) */

/* milter_set_spool - see milter_int.h */
void milter_set_spool(struct spool *sp)
{
	cb_spool = sp;
}

/* reply - NOREPLY for a step negotiated without reply, else CONTINUE */
static sfsistat reply(const struct milter_conn *conn, unsigned long nr_bit)
{
	return conn && (conn->pflags & nr_bit) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* qid - the queue id to log for a message */
static const char *qid(const struct milter_msg *msg)
{
	return msg && msg->env.queue_id && *msg->env.queue_id ? msg->env.queue_id : "NOQUEUE";
}

/* macro - a macro's value, or NULL when the MTA did not send it (or sent it empty) */
static const char *macro(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)name);
	return v && *v ? v : NULL;
}

/* conn_of - the connection context, made on the spot when negotiate/connect never came */
static struct milter_conn *conn_of(SMFICTX *ctx)
{
	struct milter_conn *conn = milter_get_conn(ctx);
	if (!conn && (conn = milter_conn_new()) != NULL)
		milter_set_conn(ctx, conn);
	if (!conn)
		msg_warn("out of memory: connection not logged");
	return conn;
}

/* msg_of - the message context, made on the spot when MAIL FROM never came */
static struct milter_msg *msg_of(SMFICTX *ctx, struct milter_conn *conn)
{
	if (!conn)
		return NULL;
	if (!conn->msg) {
		conn->msg = milter_msg_new();
		if (!conn->msg) {
			msg_warn("out of memory: message not logged");
			return NULL;
		}
		conn->msg->env.arrival = (int64_t)time(NULL);
		milter_set_str(&conn->msg->env.queue_id, macro(ctx, "i"), MILTER_MAX_MACRO);
	}
	return conn->msg;
}

/* spool_check_size - is the spool over MaxSpoolSize?  Warns on each change of state */
static int spool_check_size(const struct milter_cfg *cfg)
{
	if (!cfg)
		return 0;
	uint64_t max = cfg->conf.max_spool_size, now = spool_bytes(cb_spool);
	int over = max && now >= max;
	int was = atomic_exchange(&spool_over, over);
	if (over && !was)
		msg_warn("spool %s holds %llu bytes, over MaxSpoolSize %llu: new messages are "
			 "logged headers-only until the store catches up", spool_dir(cb_spool),
			 (unsigned long long)now, (unsigned long long)max);
	else if (!over && was)
		msg_info("spool %s below MaxSpoolSize again: messages are logged whole",
			 spool_dir(cb_spool));
	return over;
}

/* open_file - start the message's spool file once; 0, or -1 when it cannot be spooled */
static int open_file(SMFICTX *ctx, struct milter_conn *conn, struct milter_msg *msg)
{
	char err[512];
	if (msg->file)
		return 0;
	if (msg->spool_failed || !cb_spool)
		return -1;
	if (!msg->env.queue_id)
		milter_set_str(&msg->env.queue_id, macro(ctx, "i"), MILTER_MAX_MACRO);
	if (spool_check_size(conn->cfg))
		msg->headers_only = 1;
	if (spool_begin(cb_spool, msg->env.queue_id, &msg->file, err, sizeof err) < 0) {
		msg_warn("%s: cannot spool the message, it passes unlogged: %s", qid(msg), err);
		msg->spool_failed = 1;
		return -1;
	}
	return 0;
}

/* put - append bytes to the spool file; a write error is logged once */
static void put(struct milter_msg *msg, const char *p, size_t len)
{
	if (!msg->file || msg->spool_failed)
		return;
	if (spool_write(msg->file, p, len) < 0) {
		msg_warn("%s: writing the spool file failed, the message passes unlogged", qid(msg));
		msg->spool_failed = 1;
	}
}

/* put_crlf_text - append TEXT turning each bare LF into CRLF */
static void put_crlf_text(struct milter_msg *msg, const char *text)
{
	const char *run = text;
	for (const char *p = text; *p; p++) {
		if (*p != '\n' || (p > text && p[-1] == '\r'))
			continue;
		put(msg, run, (size_t)(p - run));
		put(msg, "\r\n", 2);
		run = p + 1;
	}
	put(msg, run, strlen(run));
}

/* end_header - write the blank line between header and body once */
static void end_header(struct milter_msg *msg)
{
	if (msg->in_body)
		return;
	msg->in_body = 1;
	msg->size += 2;
	put(msg, "\r\n", 2);
}

/* cb_negotiate - choose the steps, the no-reply steps and the macros we need */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct milter_conn *conn = milter_get_conn(ctx);
	if (!conn && (conn = milter_conn_new()) != NULL)
		milter_set_conn(ctx, conn);
	/* no modification actions (SETSYMLIST only asks for macros) but one:
	 * with ReplyAddress, taking its recipients out of the envelope */
	*pf0 = conn && conn->cfg && conn->cfg->conf.reply_address ? f0 & SMFIF_DELRCPT : 0;
	*pf1 = f1 & WANT_PFLAGS;
	if (!conn)		/* without a context we cannot remember the no-reply steps */
		*pf1 &= ~(unsigned long)(SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
					  SMFIP_NR_HDR | SMFIP_NR_BODY);
	*pf2 = 0;
	*pf3 = 0;
	if (conn) {
		conn->pflags = *pf1;
		conn->mta_actions = *pf0;
	}
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		smfi_setsymlist(ctx, SMFIM_CONNECT, (char *)"j {daemon_name} {client_addr} {client_name} _");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *)"i {auth_authen} {auth_type} {mail_addr}");
		smfi_setsymlist(ctx, SMFIM_EOM, (char *)"i {auth_authen}");
	}
	msg_debug("negotiate: MTA actions 0x%lx steps 0x%lx; we take actions 0x%lx steps 0x%lx",
		  f0, f1, *pf0, *pf1);
	return SMFIS_CONTINUE;
}

/* cb_connect - remember the client and the receiving service */
static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct milter_conn *conn = conn_of(ctx);
	if (!conn)
		return SMFIS_CONTINUE;
	char buf[INET6_ADDRSTRLEN];
	const char *addr = NULL;
	conn->have_addr = 0;
	addr = sockaddr_text(hostaddr, buf, sizeof buf);
	if (addr) {
		memcpy(&conn->addr, hostaddr, hostaddr->sa_family == AF_INET
			? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		conn->have_addr = 1;
	}
	milter_set_str(&conn->client_addr, addr, MILTER_MAX_MACRO);
	milter_set_str(&conn->client_name, hostname, MILTER_MAX_MACRO);
	milter_set_str(&conn->daemon_name, macro(ctx, "{daemon_name}"), MILTER_MAX_MACRO);
	return reply(conn, SMFIP_NR_CONN);
}

/* cb_envfrom - a new transaction: sender, arrival time, queue id, authenticated user */
static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_conn *conn = conn_of(ctx);
	if (!conn)
		return SMFIS_CONTINUE;
	milter_msg_free(conn->msg);	/* a transaction that never ended */
	conn->msg = NULL;
	struct milter_msg *msg = msg_of(ctx, conn);
	if (!msg)
		return reply(conn, SMFIP_NR_MAIL);
	if (milter_env_set_from(&msg->env, argv ? argv[0] : NULL) < 0 ||
	    milter_set_str(&msg->env.auth_authen, macro(ctx, "{auth_authen}"), MILTER_MAX_MACRO) < 0 ||
	    milter_set_str(&msg->env.daemon_name, macro(ctx, "{daemon_name}"), MILTER_MAX_MACRO) < 0)
		msg_warn("%s: out of memory keeping the envelope", qid(msg));
	return reply(conn, SMFIP_NR_MAIL);
}

/* cb_envrcpt - one more envelope recipient */
static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_conn *conn = conn_of(ctx);
	struct milter_msg *msg = msg_of(ctx, conn);
	if (msg && argv && argv[0] &&
	    milter_env_add_rcpt(&msg->env, argv[0], conn->cfg ? conn->cfg->conf.reply_address : NULL) < 0)
		msg_warn("%s: out of memory keeping a recipient", qid(msg));
	return reply(conn, SMFIP_NR_RCPT);
}

/* cb_header - one header field, written to the spool as "Name:value\r\n" */
static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_conn *conn = conn_of(ctx);
	struct milter_msg *msg = msg_of(ctx, conn);
	if (!msg || !name)
		return reply(conn, SMFIP_NR_HDR);
	if (!value)
		value = (char *)"";
	int leadspc = (conn->pflags & SMFIP_HDR_LEADSPC) != 0;
	size_t len = strlen(name) + strlen(value) + 4;
	if (strcasecmp(name, "Message-ID") == 0 && !msg->message_id) {
		const char *v = value + strspn(value, " \t\r\n");
		milter_set_str(&msg->message_id, v, strcspn(v, "\r\n") < MILTER_MAX_MSGID ?
			       strcspn(v, "\r\n") : MILTER_MAX_MSGID);
	}
	msg->size += len;
	if (msg->in_body || open_file(ctx, conn, msg) < 0)
		return reply(conn, SMFIP_NR_HDR);
	if (msg->header_bytes + len > MILTER_MAX_HEADER_BYTES) {
		msg->truncated = 1;
		return reply(conn, SMFIP_NR_HDR);
	}
	msg->header_bytes += len;
	put(msg, name, strlen(name));
	put(msg, leadspc ? ":" : ": ", leadspc ? 1 : 2);
	put_crlf_text(msg, value);
	put(msg, "\r\n", 2);
	return reply(conn, SMFIP_NR_HDR);
}

/* cb_body - one body chunk, written up to MaxMessageSize */
static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct milter_conn *conn = conn_of(ctx);
	struct milter_msg *msg = msg_of(ctx, conn);
	if (!msg)
		return reply(conn, SMFIP_NR_BODY);
	if (!msg->in_body && open_file(ctx, conn, msg) == 0)
		end_header(msg);
	msg->in_body = 1;
	msg->size += len;
	if (!msg->file || msg->spool_failed || !chunk)
		return reply(conn, SMFIP_NR_BODY);
	if (msg->headers_only) {
		msg->truncated = 1;
		return reply(conn, SMFIP_NR_BODY);
	}
	uint64_t max = conn->cfg ? conn->cfg->conf.max_message_size : 0;
	uint64_t done = spool_written(msg->file);
	if (max && done + len > max) {
		msg->truncated = 1;
		len = done < max ? (size_t)(max - done) : 0;
	}
	put(msg, (const char *)chunk, len);
	return reply(conn, SMFIP_NR_BODY);
}

/*
 * drop_reply_rcpts - take the ReplyAddress recipients out of the envelope:
 * they are never delivered.  A failure is logged; the message goes on
 * (Postfix's transport entry for ReplyAddress discards what is left).
 * A message with no other recipient keeps them: an MTA refuses a message
 * left without recipients, and crmilter never stops mail.
 */
static void drop_reply_rcpts(SMFICTX *ctx, struct milter_conn *conn, struct milter_msg *msg)
{
	if (msg->env.n_reply_raw && !msg->env.n_rcpts) {
		msg_info("%s: the reply address is the only recipient: left to the MTA to discard",
			 qid(msg));
		return;
	}
	for (size_t i = 0; i < msg->env.n_reply_raw; i++) {
		if (!msg->env.reply_raw[i])
			continue;
		if (!(conn->mta_actions & SMFIF_DELRCPT) ||
		    smfi_delrcpt(ctx, msg->env.reply_raw[i]) != MI_SUCCESS)
			msg_warn("%s: cannot take %s out of the envelope (%s): Postfix delivers it",
				 qid(msg), msg->env.reply_raw[i], conn->mta_actions & SMFIF_DELRCPT
				 ? "the MTA refused" : "the MTA does not allow it");
	}
}

/* cb_eom - make the message durable in the spool, then accept it */
static sfsistat cb_eom(SMFICTX *ctx)
{
	char err[512], name[256];
	struct milter_conn *conn = conn_of(ctx);
	struct milter_msg *msg = conn ? conn->msg : NULL;
	if (!conn || !msg) {
		msg_warn("%s: end of message without a message: nothing to log", qid(msg));
		return SMFIS_ACCEPT;
	}
	conn->n_msgs++;
	if (!msg->env.queue_id)
		milter_set_str(&msg->env.queue_id, macro(ctx, "i"), MILTER_MAX_MACRO);
	if (!msg->env.auth_authen)
		milter_set_str(&msg->env.auth_authen, macro(ctx, "{auth_authen}"), MILTER_MAX_MACRO);
	if (open_file(ctx, conn, msg) == 0)
		end_header(msg);
	drop_reply_rcpts(ctx, conn, msg);
	if (msg->spool_failed || !msg->file) {
		conn->msg = NULL;
		milter_msg_free(msg);
		return SMFIS_ACCEPT;
	}
	const char *daemon = msg->env.daemon_name ? msg->env.daemon_name : conn->daemon_name;
	struct spool_env env = {
		.queue_id = msg->env.queue_id,
		.mail_from = msg->env.mail_from,
		.rcpts = (const char *const *)msg->env.rcpts,
		.n_rcpts = msg->env.n_rcpts,
		.client_addr = conn->client_addr,
		.client_name = conn->client_name,
		.auth_authen = msg->env.auth_authen,
		.daemon_name = daemon,
		.message_id = msg->message_id,
		.arrival = msg->env.arrival,
		.size = msg->size,
		.originated = conn->cfg ? milter_originated(conn->cfg, msg->env.auth_authen, daemon,
				conn->have_addr ? (const struct sockaddr *)&conn->addr : NULL) : -1,
		.truncated = msg->truncated,
		.headers_only = msg->headers_only,
	};
	if (msg->env.reply_tag && env.originated == 1)
		env.reply_tag = msg->env.reply_tag;
	else if (msg->env.reply_tag)
		msg_warn("%s: reply tag %s on mail our side did not send: ignored", qid(msg),
			 msg->env.reply_tag);
	struct spool_file *file = msg->file;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	msg->file = NULL;	/* spool_commit frees it whatever happens */
	int rc = spool_commit(file, &env, name, sizeof name, err, sizeof err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long eom_us = (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
	if (rc < 0) {
		msg_warn("%s: cannot spool the message, it passes unlogged: %s", qid(msg), err);
	} else {
		if (msg->truncated && !msg->headers_only)
			msg_info("%s: message of %llu bytes spooled truncated (MaxMessageSize %llu)",
				 qid(msg), (unsigned long long)msg->size,
				 (unsigned long long)conn->cfg->conf.max_message_size);
		if (msg->env.rcpts_dropped)
			msg_warn("%s: %d recipients beyond %d not kept", qid(msg),
				 msg->env.rcpts_dropped, MILTER_MAX_RCPTS);
		msg_debug("%s: spooled %s (%llu bytes, %zu recipients, eom %ld us)", qid(msg), name,
			  (unsigned long long)msg->size, msg->env.n_rcpts, eom_us);
		milter_worker_wake();
	}
	conn->msg = NULL;
	milter_msg_free(msg);
	return SMFIS_ACCEPT;
}

/* cb_abort - the transaction ended without EOM (RSET, error): drop the message only */
static sfsistat cb_abort(SMFICTX *ctx)
{
	struct milter_conn *conn = milter_get_conn(ctx);
	if (conn) {
		milter_msg_free(conn->msg);
		conn->msg = NULL;
	}
	return SMFIS_CONTINUE;
}

/* cb_close - the connection ended: free it (it may never have connected) */
static sfsistat cb_close(SMFICTX *ctx)
{
	struct milter_conn *conn = milter_get_conn(ctx);
	milter_set_conn(ctx, NULL);
	milter_conn_free(conn);
	return SMFIS_CONTINUE;
}

static struct smfiDesc milter_desc = {
	.xxfi_name = (char *)"crmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_NONE,
	.xxfi_connect = cb_connect,
	.xxfi_helo = NULL,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = NULL,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = NULL,
	.xxfi_negotiate = cb_negotiate,
};

/* milter_register - see milter_int.h */
int milter_register(void)
{
	return smfi_register(milter_desc) == MI_SUCCESS ? 0 : -1;
}
