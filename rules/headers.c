/*
 * headers.c - what rules read from the raw header block: any header by
 * name (unfolded), and the verdicts of Authentication-Results (RFC 8601)
 * headers written by a trusted authserv-id
 *
 * Only A-R headers whose authserv-id the rules file trusts ("trust
 * authserv ID") count: anyone can write an A-R header into a message, so
 * the MTA must remove incoming ones that carry its own id (Postfix with
 * OpenDMARC/OpenDKIM and rspamd do).  "aligned" means dmarc=pass, or
 * dkim=pass with header.d in From's organisational domain, or spf=pass
 * with smtp.mailfrom in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_int.h"

/* unfold - the value of the header line at P (after "Name:") up to its end; sets *next */
static char *unfold(const char *p, const char *end, const char **next)
{
	char *out = malloc((size_t)(end - p) + 1), *o = out;
	int space = 0;

	if (!out)
		return NULL;
	while (p < end) {
		if (*p == '\n') {
			if (p + 1 >= end || (p[1] != ' ' && p[1] != '\t'))
				break;
			space = 1;
			p++;
			continue;
		}
		if (*p == '\r' || ((*p == ' ' || *p == '\t') && (o == out || space))) {
			space = space || *p != '\r';
			p++;
			continue;
		}
		if (space && o > out)
			*o++ = ' ';
		space = 0;
		*o++ = *p++;
	}
	while (o > out && (o[-1] == ' ' || o[-1] == '\t'))
		o--;
	*o = '\0';
	*next = p < end ? p + 1 : end;
	return out;
}

/* line_is - 1 when the line at P is the header NAME; *value points after the ':' */
static int line_is(const char *p, const char *end, const char *name, const char **value)
{
	size_t n = strlen(name);

	if ((size_t)(end - p) <= n || strncasecmp(p, name, n) != 0)
		return 0;
	p += n;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != ':')
		return 0;
	*value = p + 1;
	return 1;
}

/*
 * header_each - call FN with the unfolded value of every header NAME in the
 * header block HDRS (LEN bytes; ends at the first empty line).  Stops and
 * returns 1 when FN returns 1; returns 0 otherwise (or when out of memory).
 */
int header_each(const char *hdrs, size_t len, const char *name,
		int (*fn)(const char *value, void *arg), void *arg)
{
	const char *p = hdrs, *end = hdrs ? hdrs + len : NULL, *v, *next;
	char *value;
	int hit;

	while (p && p < end && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
		if (!line_is(p, end, name, &v)) {
			next = memchr(p, '\n', (size_t)(end - p));
			while (next && next + 1 < end && (next[1] == ' ' || next[1] == '\t'))
				next = memchr(next + 1, '\n', (size_t)(end - next - 1));
			p = next ? next + 1 : end;
			continue;
		}
		value = unfold(v, end, &next);
		if (!value)
			return 0;
		hit = fn(value, arg);
		free(value);
		if (hit)
			return 1;
		p = next;
	}
	return 0;
}

/* strip_comments - blank out (nested) parenthesised comments and quoted strings' ';' */
static void strip_comments(char *s)
{
	int depth = 0, quoted = 0;

	for (; *s; s++) {
		if (depth) {
			depth += *s == '(' ? 1 : *s == ')' ? -1 : 0;
			*s = ' ';
		} else if (quoted) {
			quoted = *s != '"';
			if (*s == ';')
				*s = ' ';
		} else if (*s == '"') {
			quoted = 1;
		} else if (*s == '(') {
			depth = 1;
			*s = ' ';
		}
	}
}

/* trusted - 1 when ID is a trusted authserv-id */
static int trusted(const struct rules *r, const char *id)
{
	for (size_t i = 0; i < r->n_trust; i++)
		if (strcasecmp(r->trust[i], id) == 0)
			return 1;
	return 0;
}

/* domain_of - the lower-case domain of an address or domain value (new string) */
static char *domain_of(const char *v)
{
	const char *at = strrchr(v, '@');

	return lower_dup(at ? at + 1 : v);
}

/* verdict_add - one "method=result props..." resinfo into E's verdicts */
static void verdict_add(struct ev *e, char *resinfo)
{
	char *save = NULL, *tok = strtok_r(resinfo, " \t", &save), *eq, *slash;
	struct ar_verdict v = { 0 }, *nv;

	if (!tok || !(eq = strchr(tok, '=')))
		return;
	*eq = '\0';
	if ((slash = strchr(tok, '/')))
		*slash = '\0';
	snprintf(v.method, sizeof v.method, "%s", tok);
	snprintf(v.result, sizeof v.result, "%s", eq + 1);
	while ((tok = strtok_r(NULL, " \t", &save))) {
		if (strncasecmp(tok, "header.d=", 9) == 0 && !v.header_d)
			v.header_d = domain_of(tok + 9);
		else if (strncasecmp(tok, "smtp.mailfrom=", 14) == 0 && !v.mailfrom)
			v.mailfrom = domain_of(tok + 14);
	}
	nv = realloc(e->ar, (e->n_ar + 1) * sizeof *nv);
	if (!nv) {
		free(v.header_d);
		free(v.mailfrom);
		return;
	}
	e->ar = nv;
	e->ar[e->n_ar++] = v;
}

/* parse_ar - the verdicts of one A-R header value when its authserv-id is trusted */
static void parse_ar(struct ev *e, const char *value)
{
	char *s = strdup(value), *save = NULL, *part, *id, *idsave = NULL;

	if (!s)
		return;
	strip_comments(s);
	part = strtok_r(s, ";", &save);
	id = part ? strtok_r(part, " \t", &idsave) : NULL;
	if (id && trusted(e->r, id))
		while ((part = strtok_r(NULL, ";", &save)))
			verdict_add(e, part);
	free(s);
}

/* auth_collect - parse the record's A-R headers once per evaluation */
static void auth_collect(struct ev *e)
{
	const struct mail_headers *h = &e->in->rec->hdr;

	if (e->auth_done)
		return;
	e->auth_done = 1;
	for (size_t i = 0; i < h->n_auth_results; i++)
		if (h->auth_results[i])
			parse_ar(e, h->auth_results[i]);
}

/* auth_method - 1 when a trusted verdict says METHOD=RESULT */
int auth_method(struct ev *e, const char *method, const char *result)
{
	auth_collect(e);
	for (size_t i = 0; i < e->n_ar; i++)
		if (strcasecmp(e->ar[i].method, method) == 0 &&
		    strcasecmp(e->ar[i].result, result) == 0)
			return 1;
	return 0;
}

/* same_org - 1 when domains A and B have the same registrable domain */
static int same_org(const char *a, const char *b)
{
	char *ra, *rb;
	int same;

	if (!a || !b || !*a || !*b)
		return 0;
	ra = mail_registrable_domain(a);
	rb = mail_registrable_domain(b);
	same = ra && rb && strcasecmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}

/* auth_aligned - 1 when DMARC passed, or DKIM or SPF passed aligned with From */
int auth_aligned(struct ev *e)
{
	const struct mail_addrs *from = &e->in->rec->from;
	const char *fd = from->n && from->v[0].addr ? from->v[0].domain : NULL;

	auth_collect(e);
	for (size_t i = 0; i < e->n_ar; i++) {
		const struct ar_verdict *v = &e->ar[i];

		if (strcasecmp(v->result, "pass") != 0)
			continue;
		if (strcasecmp(v->method, "dmarc") == 0)
			return 1;
		if (strcasecmp(v->method, "dkim") == 0 && same_org(v->header_d, fd))
			return 1;
		if (strcasecmp(v->method, "spf") == 0 && same_org(v->mailfrom, fd))
			return 1;
	}
	return 0;
}

/* ev_free_auth - free the verdicts collected during an evaluation */
void ev_free_auth(struct ev *e)
{
	for (size_t i = 0; i < e->n_ar; i++) {
		free(e->ar[i].header_d);
		free(e->ar[i].mailfrom);
	}
	free(e->ar);
	e->ar = NULL;
	e->n_ar = 0;
	e->auth_done = 0;
}
