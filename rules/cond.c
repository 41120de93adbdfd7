/*
 * cond.c - the conditions of a rule: parse "[not] TEST ARGS", and one
 * small predicate per test, combined in cond_holds()
 *
 * Tests: internal, inbound, outbound (direction); bounce, auto-reply, bulk
 * (the record's flags); marked-private ([log] chose private); from, to, cc,
 * bcc, participant, external, mailbox (addresses); subject, header NAME,
 * attachment, attachment-type (text); size OP N; auth METHOD=RESULT and
 * auth aligned (Authentication-Results from a trusted authserv-id).
 * Several patterns after a test mean any of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_int.h"
#include "../common/common.h"

enum args { A_NONE, A_ADDR, A_ADDR_OPT, A_TEXT, A_TEXT_OPT, A_HEADER, A_SIZE, A_AUTH };

static const struct {
	const char *name;
	enum test test;
	enum args args;
} tests[] = {
	{ "internal", T_INTERNAL, A_NONE },      { "inbound", T_INBOUND, A_NONE },
	{ "outbound", T_OUTBOUND, A_NONE },      { "bounce", T_BOUNCE, A_NONE },
	{ "auto-reply", T_AUTOREPLY, A_NONE },   { "bulk", T_BULK, A_NONE },
	{ "marked-private", T_MARKED_PRIVATE, A_NONE },
	{ "from", T_FROM, A_ADDR },              { "to", T_TO, A_ADDR },
	{ "cc", T_CC, A_ADDR },                  { "bcc", T_BCC, A_ADDR },
	{ "participant", T_PARTICIPANT, A_ADDR }, { "external", T_EXTERNAL, A_ADDR_OPT },
	{ "mailbox", T_MAILBOX, A_ADDR_OPT },    { "subject", T_SUBJECT, A_TEXT },
	{ "header", T_HEADER, A_HEADER },        { "size", T_SIZE, A_SIZE },
	{ "attachment", T_ATTACHMENT, A_TEXT_OPT },
	{ "attachment-type", T_ATTACHMENT_TYPE, A_TEXT_OPT },
	{ "auth", T_AUTH, A_AUTH },
};
#define N_TESTS (sizeof tests / sizeof tests[0])

/* test_names - "internal, inbound, ..." for an error message */
static const char *test_names(void)
{
	static char buf[512];

	if (!buf[0])
		for (size_t i = 0; i < N_TESTS; i++)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? ", " : "",
				 tests[i].name);
	return buf;
}

/* at_end - 1 when token I ends the condition (end of line or "and") */
static int at_end(const struct toks *t, size_t i)
{
	return i >= t->n || (t->v[i].kind == TOK_WORD && strcmp(t->v[i].text, "and") == 0);
}

/* parse_patterns - the patterns up to the condition's end into C->m */
static int parse_patterns(struct loader *ld, const struct toks *t, size_t *i, unsigned line,
			  struct cond *c, enum match_ctx ctx, int optional, const char *name)
{
	int rc = 0;

	if (at_end(t, *i)) {
		if (optional) {
			c->m.any = 1;
			return 0;
		}
		diag_add(ld->d, ld->file, line, *i < t->n ? t->v[*i].col : (unsigned)strlen(t->line) + 1,
			 "'%s' needs a pattern: an address, a domain, a /regex/, \"text\" or an @list",
			 name);
		return -1;
	}
	for (; !at_end(t, *i); (*i)++)
		if (matcher_add_tok(ld, &c->m, &t->v[*i], line, ctx) < 0)
			rc = -1;
	return rc;
}

/* parse_size - "size OP N" (OP one of < > <= >=; N with k, M, G); OP may be glued to N */
static int parse_size_cond(struct loader *ld, const struct toks *t, size_t *i, unsigned line,
			   struct cond *c)
{
	static const char *const ops[] = { "<=", ">=", "<", ">", "=" };
	static const char codes[] = { 'l', 'g', '<', '>', '=' };
	const struct tok *tk = *i < t->n ? &t->v[*i] : NULL;
	const char *p = tk ? tk->text : "";
	size_t k;

	for (k = 0; k < 5 && strncmp(p, ops[k], strlen(ops[k])) != 0; k++)
		;
	if (!tk || k == 5) {
		diag_add(ld->d, ld->file, line, tk ? tk->col : (unsigned)strlen(t->line) + 1,
			 "size needs a comparison: size > 10M, size < 100k, size >= N, size <= N");
		return -1;
	}
	c->op = codes[k];
	p += strlen(ops[k]);
	if (!*p && ++(*i) < t->n)
		p = t->v[*i].text;
	if (!*p || parse_size(p, &c->size) < 0) {
		diag_add(ld->d, ld->file, line, *i < t->n ? t->v[*i].col : tk->col,
			 "bad size '%s': a number with an optional k, M or G", p);
		return -1;
	}
	(*i)++;
	return 0;
}

/* parse_auth - "auth METHOD=RESULT" or "auth aligned" */
static int parse_auth(struct loader *ld, const struct toks *t, size_t *i, unsigned line,
		      struct cond *c)
{
	const struct tok *tk = *i < t->n ? &t->v[*i] : NULL;
	const char *eq = tk ? strchr(tk->text, '=') : NULL;

	if (tk && strcasecmp(tk->text, "aligned") == 0) {
		c->auth = AUTH_ALIGNED;
	} else if (eq && eq > tk->text && eq[1] && (size_t)(eq - tk->text) < sizeof c->method &&
		   strlen(eq + 1) < sizeof c->result) {
		c->auth = AUTH_METHOD;
		snprintf(c->method, sizeof c->method, "%.*s", (int)(eq - tk->text), tk->text);
		snprintf(c->result, sizeof c->result, "%s", eq + 1);
	} else {
		diag_add(ld->d, ld->file, line, tk ? tk->col : (unsigned)strlen(t->line) + 1,
			 "auth needs METHOD=RESULT (dmarc=pass, dkim=pass, spf=pass...) or 'aligned'");
		return -1;
	}
	(*i)++;
	return 0;
}

/* parse_header - "header NAME [patterns]": no pattern means the header is present */
static int parse_header(struct loader *ld, const struct toks *t, size_t *i, unsigned line,
			struct cond *c)
{
	const struct tok *tk = *i < t->n ? &t->v[*i] : NULL;

	if (!tk || tk->kind != TOK_WORD || at_end(t, *i) || strchr(tk->text, ':')) {
		diag_add(ld->d, ld->file, line, tk ? tk->col : (unsigned)strlen(t->line) + 1,
			 "header needs a field name without ':' (header X-Spam-Flag /^yes/i)");
		return -1;
	}
	c->header = strdup(tk->text);
	(*i)++;
	return c->header ? parse_patterns(ld, t, i, line, c, CTX_TEXT, 1, "header") : -1;
}

/*
 * cond_parse - one condition at token *i; advances *i to its end.
 * SECTION is where the rule is (marked-private is known only after [log]).
 * Returns 0, or -1 after reporting.
 */
int cond_parse(struct loader *ld, const struct toks *t, size_t *i, unsigned line, struct cond *c,
	       int section)
{
	const struct tok *tk;
	size_t k;

	memset(c, 0, sizeof *c);
	if (*i < t->n && t->v[*i].kind == TOK_WORD && strcmp(t->v[*i].text, "not") == 0) {
		c->negate = 1;
		(*i)++;
	}
	tk = *i < t->n ? &t->v[*i] : NULL;
	for (k = 0; tk && tk->kind == TOK_WORD && k < N_TESTS; k++)
		if (strcmp(tk->text, tests[k].name) == 0)
			break;
	if (!tk || tk->kind != TOK_WORD || k == N_TESTS) {
		diag_add(ld->d, ld->file, line, tk ? tk->col : (unsigned)strlen(t->line) + 1,
			 "expected a test (%s)%s%s", test_names(), tk ? ", not " : "",
			 tk ? tk->text : "");
		return -1;
	}
	c->test = tests[k].test;
	(*i)++;
	if (c->test == T_MARKED_PRIVATE && section == SEC_LOG) {
		diag_add(ld->d, ld->file, line, tk->col,
			 "marked-private is decided by [log]: use it in a later section");
		return -1;
	}
	switch (tests[k].args) {
	case A_NONE: return 0;
	case A_ADDR: return parse_patterns(ld, t, i, line, c, CTX_ADDR, 0, tk->text);
	case A_ADDR_OPT: return parse_patterns(ld, t, i, line, c, CTX_ADDR, 1, tk->text);
	case A_TEXT: return parse_patterns(ld, t, i, line, c, CTX_TEXT, 0, tk->text);
	case A_TEXT_OPT: return parse_patterns(ld, t, i, line, c, CTX_TEXT, 1, tk->text);
	case A_HEADER: return parse_header(ld, t, i, line, c);
	case A_SIZE: return parse_size_cond(ld, t, i, line, c);
	case A_AUTH: return parse_auth(ld, t, i, line, c);
	}
	return -1;
}

/* cond_free - free what cond_parse() allocated */
void cond_free(struct cond *c)
{
	matcher_free(&c->m);
	free(c->header);
}

/* ---- the predicates ---- */

/* is_internal - the caller's "is this address ours?" */
static int is_internal(const struct ev *e, const char *addr)
{
	return e->in->is_internal && e->in->is_internal(addr, e->in->arg);
}

/* want_ok - does ADDR pass the internal filter WANT (-1 any, 0 external, 1 internal)? */
static int want_ok(const struct ev *e, const char *addr, int want)
{
	return want < 0 || is_internal(e, addr) == want;
}

/* any_in - 1 when an address of L passing WANT matches M */
static int any_in(const struct ev *e, const struct mail_addrs *l, const struct matcher *m, int want)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].addr && *l->v[i].addr && want_ok(e, l->v[i].addr, want) &&
		    matcher_addr(m, l->v[i].addr, e->md))
			return 1;
	return 0;
}

/*
 * any_participant - 1 when a participant (headers or envelope) passing
 * WANT matches M.  In [visibility] (E->delivery_only) only the delivery
 * roles count: Sender and Reply-To deliver nothing, and an outside sender
 * writes them, so they never decide who is inside.
 */
static int any_participant(const struct ev *e, const struct matcher *m, int want)
{
	const struct mail_record *r = e->in->rec;
	const struct mail_addrs *lists[] = { &r->from, &r->to, &r->cc, &r->bcc, &r->sender,
					     &r->reply_to };
	size_t n = sizeof lists / sizeof lists[0] - (e->delivery_only ? 2 : 0);

	for (size_t l = 0; l < n; l++)
		if (any_in(e, lists[l], m, want))
			return 1;
	for (size_t i = 0; i < e->in->n_rcpts; i++)
		if (e->in->rcpts[i] && want_ok(e, e->in->rcpts[i], want) &&
		    matcher_addr(m, e->in->rcpts[i], e->md))
			return 1;
	return 0;
}

/* header_value_matches - header_each() callback: the value matches the matcher */
struct hv {
	const struct matcher *m;
	pcre2_match_data *md;
};

static int header_value_matches(const char *value, void *arg)
{
	const struct hv *h = arg;

	return matcher_text(h->m, value, h->md);
}

/* test_header - some occurrence of the header matches */
static int test_header(const struct ev *e, const struct cond *c)
{
	struct hv h = { &c->m, e->md };

	return header_each(e->in->headers, e->in->headers_len, c->header, header_value_matches, &h);
}

/* test_size - the raw size compared */
static int test_size(const struct ev *e, const struct cond *c)
{
	uint64_t s = e->in->rec->size;

	switch (c->op) {
	case '<': return s < c->size;
	case '>': return s > c->size;
	case 'l': return s <= c->size;
	case 'g': return s >= c->size;
	default: return s == c->size;
	}
}

/* test_attachment - an attachment's name (TYPE 0) or content type (1) matches */
static int test_attachment(const struct ev *e, const struct cond *c, int type)
{
	const struct mail_record *r = e->in->rec;

	for (size_t i = 0; i < r->n_attachments; i++) {
		const char *v = type ? r->attachments[i].content_type : r->attachments[i].filename;

		if (c->m.any || (v && matcher_text(&c->m, v, e->md)))
			return 1;
	}
	return 0;
}

/* test_auth - a trusted verdict METHOD=RESULT, or DMARC/aligned DKIM/SPF passed */
static int test_auth(struct ev *e, const struct cond *c)
{
	if (c->auth == AUTH_ALIGNED)
		return auth_aligned(e);
	return auth_method(e, c->method, c->result);
}

/* test_raw - the test itself, before any negation */
static int test_raw(struct ev *e, const struct cond *c)
{
	const struct mail_record *r = e->in->rec;

	switch (c->test) {
	case T_INTERNAL: return e->in->direction == RULES_INTERNAL;
	case T_INBOUND: return e->in->direction == RULES_INBOUND;
	case T_OUTBOUND: return e->in->direction == RULES_OUTBOUND;
	case T_BOUNCE: return (r->flags & MAIL_BOUNCE) != 0;
	case T_AUTOREPLY: return (r->flags & MAIL_AUTOREPLY) != 0;
	case T_BULK: return (r->flags & MAIL_BULK) != 0;
	case T_MARKED_PRIVATE: return e->marked_private;
	case T_FROM: return any_in(e, &r->from, &c->m, -1);
	case T_TO: return any_in(e, &r->to, &c->m, -1);
	case T_CC: return any_in(e, &r->cc, &c->m, -1);
	case T_BCC: return any_in(e, &r->bcc, &c->m, -1);
	case T_PARTICIPANT: return any_participant(e, &c->m, -1);
	case T_EXTERNAL: return any_participant(e, &c->m, 0);
	case T_MAILBOX: return any_participant(e, &c->m, 1);
	case T_SUBJECT: return matcher_text(&c->m, r->subject ? r->subject : "", e->md);
	case T_HEADER: return test_header(e, c);
	case T_SIZE: return test_size(e, c);
	case T_ATTACHMENT: return test_attachment(e, c, 0);
	case T_ATTACHMENT_TYPE: return test_attachment(e, c, 1);
	case T_AUTH: return test_auth(e, c);
	}
	return 0;
}

/* cond_holds - 1 when the condition holds for the message of E */
int cond_holds(struct ev *e, const struct cond *c)
{
	return test_raw(e, c) != c->negate;
}
