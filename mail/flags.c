/*
 * flags.c - is this mail from a machine: bounce, auto-reply, bulk
 *
 * mail_flags_detect() looks only at the outer message (a forwarded bounce
 * is a person's mail) and answers with MAIL_BOUNCE, MAIL_AUTOREPLY and
 * MAIL_BULK.  One small predicate per criterion, combined at the end:
 *
 *   bounce     multipart/report; report-type=delivery-status, a
 *              message/delivery-status or message/feedback-report (ARF)
 *              part, X-Failed-Recipients, anything from MAILER-DAEMON, or
 *              a machine sender (postmaster, the null sender, no-reply)
 *              with a subject like "Undelivered Mail Returned to Sender"
 *              (in many languages), delivery report wording in the body
 *              or the returned message attached;
 *   auto-reply RFC 3834 Auto-Submitted other than "no", X-Autoreply and
 *              friends, Precedence: auto_reply, read receipts (MDN), and
 *              vacation / out-of-office subjects;
 *   bulk       List-Id, List-Unsubscribe, other list software headers
 *              (List-Post, X-Mailing-List, X-MLServer...), Precedence
 *              bulk/list/junk.
 *
 * Phrase matching is ASCII case-insensitive on the decoded subject.
 */
#include <string.h>

#include "mail_int.h"

/* subjects of delivery failure reports (matched anywhere in the subject) */
static const char *const bounce_subjects[] = {
	"undelivered mail", "undeliverable", "undelivered", "delivery status notification",
	"delivery failure", "delivery failed", "delivery has failed", "mail delivery failed",
	"delivery notification", "delivery problem", "delivery report", "returned mail",
	"returned to sender", "return to sender", "failure notice", "failed delivery",
	"could not be delivered", "couldn't be delivered", "not delivered", "nondeliverable",
	"non-deliverable", "non deliverable", "mail system error", "message delivery",
	"delivery unsuccessful", "unsuccessful delivery", "warning: could not send",
	"could not send message", "mail failure", "error sending", "permanent error",
	"unzustellbar", "nicht zustellbar", "non remis", "non distribu", "impossible de remettre",
	"non recapitabile", "onbestelbaar", "no se puede entregar", "no entregado",
	"n\xc3\xa3o entregue", "nao entregue", "niedoreczalna", "levering mislukt",
	"unable to deliver", "undeliverd", "mail delivery system", "mail returned",
	"delivery error", "delivery fail", "complaint about message",
	"abuse report", "\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93",
	"\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc\xe9\x80\x9a\xe7\x9f\xa5",
	"\xe4\xb8\x8d\xe9\x81\x94", "\xe9\x80\x80\xe4\xbf\xa1", NULL
};

/* delivery report wording in a body (matched in its first DSN_SCAN bytes) */
static const char *const dsn_phrases[] = {
	"final-recipient:", "diagnostic-code:", "reporting-mta:", "remote-mta:",
	"\"bouncetype\"", "\"notificationtype\"", "\\\"notificationtype\\\"",
	"did not reach the following recipient", "could not be delivered",
	"couldn't be delivered", "delivery has failed", "delivery to the following",
	"permanent fatal error", "undeliverable", "user unknown", "unknown user",
	"no such user", "mailbox unavailable", "mailbox not found", "was not delivered",
	"failed to deliver", "unable to deliver", "delivery failed", "returned mail",
	"message could not be sent", "recipient address rejected", "address rejected",
	"550 5.", "550-5.", "554 5.", "5.1.1", "this is an email abuse report",
	"complaint about message", NULL
};

/* bytes of body searched for delivery report wording */
#define DSN_SCAN (64 * 1024)

/* subjects of vacation and out-of-office replies (matched at the start) */
static const char *const autoreply_subjects[] = {
	"out of office", "out of the office", "automatic reply", "auto reply", "autoreply",
	"auto-reply", "auto:", "auto response", "autoresponse", "auto-response",
	"automatic response", "automated response", "automated reply", "abwesenheit",
	"automatische antwort", "automatische antwort:", "r\xc3\xa9ponse automatique",
	"reponse automatique", "respuesta autom\xc3\xa1tica", "respuesta automatica",
	"risposta automatica", "resposta autom\xc3\xa1tica", "resposta automatica",
	"automatisch antwoord", "automatisk svar", "autosvar", "automaattinen vastaus",
	"odpowied\xc5\xba automatyczna", "fuera de la oficina", "absent du bureau",
	"abwesend:", "i am out of the office", "absence du bureau",
	"\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94", "\xe8\x87\xaa\xe5\x8a\xa8\xe5\x9b\x9e\xe5\xa4\x8d",
	NULL
};

/* local parts (squeezed) of delivery daemons */
static const char *const daemon_locals[] = {
	"mailerdaemon", "postmaster", "maildeliverysubsystem", "maildeliverysystem",
	"mailer", "mdaemon", "maildaemon", "smtp", "mailadmin", "root", "doublebounce", NULL
};

/* contains_ci - 1 when S contains NEEDLE, ASCII case folded */
static int contains_ci(const char *s, const char *needle)
{
	size_t k = strlen(needle);

	for (; *s; s++)
		if (g_ascii_strncasecmp(s, needle, k) == 0)
			return 1;
	return 0;
}

/* any_contained - 1 when S contains one of LIST */
static int any_contained(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (contains_ci(s, list[i]))
			return 1;
	return 0;
}

/* header_present - 1 when the outer message has a NAME header */
static int header_present(struct mail_ctx *ctx, const char *name)
{
	return mail_header_raw(GMIME_OBJECT(ctx->message), name) != NULL;
}

/* token_is - 1 when VALUE's first token (before ';' or space) is WORD */
static int token_is(const char *value, const char *word)
{
	size_t k = strlen(word);

	while (*value && g_ascii_isspace(*value))
		value++;
	return g_ascii_strncasecmp(value, word, k) == 0 &&
	       (value[k] == '\0' || value[k] == ';' || g_ascii_isspace(value[k]));
}

/* squeezed_local - the local part of ADDR lower-cased without '-', '_', '.' */
static void squeezed_local(const char *addr, char *out, size_t outlen)
{
	size_t j = 0;

	for (; *addr && *addr != '@' && j + 1 < outlen; addr++) {
		if (*addr == '-' || *addr == '_' || *addr == '.' || *addr == ' ')
			continue;
		out[j++] = g_ascii_tolower(*addr);
	}
	out[j] = '\0';
}

/* is_daemon_addr - 1 when ADDR (or a display name) is a delivery daemon's */
static int is_daemon_addr(const char *addr)
{
	char local[64];

	if (addr == NULL)
		return 0;
	squeezed_local(addr, local, sizeof(local));
	for (size_t i = 0; daemon_locals[i]; i++)
		if (strcmp(local, daemon_locals[i]) == 0)
			return 1;
	return 0;
}

/* is_mailer_daemon - 1 when ADDR's local part is MAILER-DAEMON (any spelling) */
static int is_mailer_daemon(const char *addr)
{
	char local[64];

	if (addr == NULL)
		return 0;
	squeezed_local(addr, local, sizeof(local));
	return strcmp(local, "mailerdaemon") == 0;
}

/*
 * from_mailer_daemon - 1 when MAILER-DAEMON or a "Mail Delivery" system
 * sent the message: its From address or raw From text, Sender, or
 * Return-Path.  Nobody writes mail as MAILER-DAEMON.
 */
static int from_mailer_daemon(struct mail_ctx *ctx)
{
	const struct mail_record *rec = ctx->rec;
	const char *raw = mail_header_raw(GMIME_OBJECT(ctx->message), "From");

	if (is_mailer_daemon(rec->hdr.return_path))
		return 1;
	if (raw != NULL && (contains_ci(raw, "mailer-daemon") || contains_ci(raw, "mail delivery s")))
		return 1;
	for (size_t i = 0; i < rec->from.n; i++)
		if (is_mailer_daemon(rec->from.v[i].addr))
			return 1;
	for (size_t i = 0; i < rec->sender.n; i++)
		if (is_mailer_daemon(rec->sender.v[i].addr))
			return 1;
	return 0;
}

/*
 * from_machine - 1 when the sender is a delivery daemon (postmaster and
 * the like), the null sender, or an automated address (no-reply...)
 */
static int from_machine(const struct mail_record *rec)
{
	const char *rp = rec->hdr.return_path;

	if (rp != NULL && (*rp == '\0' || is_daemon_addr(rp)))
		return 1;
	for (size_t i = 0; i < rec->from.n; i++) {
		const struct mail_addr *a = &rec->from.v[i];

		if (is_daemon_addr(a->addr) || mail_addr_is_automated(a->addr))
			return 1;
		if (a->name != NULL && (contains_ci(a->name, "mail delivery") ||
					contains_ci(a->name, "postmaster")))
			return 1;
	}
	for (size_t i = 0; i < rec->sender.n; i++)
		if (is_daemon_addr(rec->sender.v[i].addr))
			return 1;
	return 0;
}

/*
 * dsn_text - 1 when the start of the body reads like a delivery report;
 * the start is lower-cased once and searched with strstr (the phrases are
 * lower case)
 */
static int dsn_text(const struct mail_record *rec)
{
	size_t n = rec->body_len < DSN_SCAN ? rec->body_len : DSN_SCAN;
	char *head = g_ascii_strdown(rec->body, (gssize)n);
	int hit = 0;

	for (size_t i = 0; dsn_phrases[i] && !hit; i++)
		hit = strstr(head, dsn_phrases[i]) != NULL;
	g_free(head);
	return hit;
}

/*
 * is_bounce - a delivery status report, ARF report or non-standard bounce:
 * report parts, X-Failed-Recipients, anything from MAILER-DAEMON, a
 * machine sender with a bounce subject, report text or the returned
 * message attached, or a bounce subject over report text or a returned
 * message whoever sends it.
 */
static int is_bounce(struct mail_ctx *ctx)
{
	const struct mail_walk_facts *f = &ctx->facts;
	const struct mail_record *rec = ctx->rec;
	int subject, machine, text;

	if (f->report_delivery_status || f->delivery_status_part || f->feedback_report_part)
		return 1;
	if (header_present(ctx, "X-Failed-Recipients") || from_mailer_daemon(ctx))
		return 1;
	subject = any_contained(rec->subject, bounce_subjects);
	machine = from_machine(rec);
	if (!machine && !subject)
		return 0;	/* the body text cannot change the answer: skip it */
	if (f->returned_message)
		return 1;
	text = dsn_text(rec);
	return text || (machine && subject);
}

/* auto_submitted - 1 for an RFC 3834 Auto-Submitted other than "no" */
static int auto_submitted(const struct mail_record *rec)
{
	const char *v = rec->hdr.auto_submitted;

	return v != NULL && *v != '\0' && !token_is(v, "no");
}

/* autoreply_header - 1 for X-Autoreply, X-Autorespond and similar headers */
static int autoreply_header(struct mail_ctx *ctx)
{
	static const char *const names[] = {
		"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autoresponse",
		"X-Auto-Reply", "X-Vacation", NULL
	};

	for (size_t i = 0; names[i]; i++) {
		const char *v = mail_header_raw(GMIME_OBJECT(ctx->message), names[i]);

		if (v != NULL && !token_is(v, "no") && !token_is(v, "false"))
			return 1;
	}
	return 0;
}

/* autoreply_subject - 1 when the subject starts like a vacation reply */
static int autoreply_subject(const char *subject)
{
	while (*subject && g_ascii_isspace(*subject))
		subject++;
	if (*subject == '[')  /* "[Auto-Reply] ..." */
		subject++;
	for (size_t i = 0; autoreply_subjects[i]; i++)
		if (g_ascii_strncasecmp(subject, autoreply_subjects[i],
					strlen(autoreply_subjects[i])) == 0)
			return 1;
	return 0;
}

/* is_autoreply - RFC 3834, vendor headers, read receipts, vacation subjects */
static int is_autoreply(struct mail_ctx *ctx)
{
	const struct mail_record *rec = ctx->rec;

	if (auto_submitted(rec) || autoreply_header(ctx) || ctx->facts.report_disposition)
		return 1;
	if (rec->hdr.precedence != NULL && token_is(rec->hdr.precedence, "auto_reply"))
		return 1;
	return autoreply_subject(rec->subject);
}

/* list_software - 1 when list software headers other than List-Id are present */
static int list_software(struct mail_ctx *ctx)
{
	static const char *const names[] = {
		"List-Post", "List-Help", "List-Subscribe", "List-Owner", "List-Archive",
		"X-Mailing-List", "Mailing-List", "X-ML-Name", "X-MLServer", "X-ML-Server",
		NULL
	};

	for (size_t i = 0; names[i]; i++)
		if (header_present(ctx, names[i]))
			return 1;
	return 0;
}

/* is_bulk - list mail (List-Id, List-Unsubscribe, list software) and Precedence bulk/list/junk */
static int is_bulk(struct mail_ctx *ctx)
{
	const struct mail_record *rec = ctx->rec;
	const char *p = rec->hdr.precedence;

	if (rec->hdr.list_id != NULL || rec->hdr.list_unsubscribe != NULL || list_software(ctx))
		return 1;
	return p != NULL && (token_is(p, "bulk") || token_is(p, "list") || token_is(p, "junk"));
}

/* mail_flags_detect - MAIL_BOUNCE | MAIL_AUTOREPLY | MAIL_BULK of the parsed message */
unsigned mail_flags_detect(struct mail_ctx *ctx)
{
	unsigned flags = 0;

	if (ctx->message == NULL)
		return 0;
	if (is_bounce(ctx))
		flags |= MAIL_BOUNCE;
	if (is_autoreply(ctx))
		flags |= MAIL_AUTOREPLY;
	if (is_bulk(ctx))
		flags |= MAIL_BULK;
	return flags;
}
