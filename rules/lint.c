/*
 * lint.c - rules that load but do not mean what they seem: warnings
 *
 * A rules file can parse and still be wrong in ways that cost privacy or
 * split a customer: a comma in a list of domains (rules separate values with
 * spaces, so "acme.test," is a domain no mail has), require-auth with no
 * trusted authserv-id (all inbound mail then counts as unauthenticated), a
 * near miss of one of the company's own domains ("exmaple.com"), a second
 * policy or require-auth line (the last wins), a domain in two accounts (the
 * first wins), a rule after one that always matches or that repeats an
 * earlier rule's test (never reached), and a deal subject pattern whose
 * capture can never equal an imported deal's key.  rules_lint() reports
 * them, one "FILE:LINE: warning: what; the fix" a line; nothing here changes
 * what the rules decide.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_int.h"

#define LINT_MAX_DOMAIN 100     /* longer names are not checked for typos */

/* the warnings being written: lines in d (d.n of them), and whether one was lost */
struct lint {
	struct diag d;
	int oom;
};

static void warn(struct lint *l, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* warn - append "FILE:LINE: warning: message" */
static void warn(struct lint *l, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[1024], *text;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (l->oom)
		return;
	if (asprintf(&text, "%s:%u: warning: %s", file, line, msg) < 0) {
		l->oom = 1;
		return;
	}
	if (diag_put(&l->d, text) < 0)
		l->oom = 1;
	else
		l->d.n++;
	free(text);
}

/* distance - edit distance of A and B, a swap of neighbours counting one;
 * stops at 3 (returns 3 for anything further) */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int d[LINT_MAX_DOMAIN + 1][LINT_MAX_DOMAIN + 1];

	if (la > LINT_MAX_DOMAIN || lb > LINT_MAX_DOMAIN || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1], v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb] > 3 ? 3 : d[la][lb];
}

/* own_of - DOMAIN is an own domain or under one */
static int own_of(const struct rules_lint_ctx *c, const char *domain)
{
	size_t dl = strlen(domain);

	for (size_t i = 0; i < c->n_own_domains; i++) {
		const char *own = c->own_domains[i];
		size_t ol = strlen(own);

		if (strcasecmp(domain, own) == 0 ||
		    (dl > ol && domain[dl - ol - 1] == '.' && strcasecmp(domain + dl - ol, own) == 0))
			return 1;
	}
	return 0;
}

/* check_word - one word of a rule or list as written: a comma in it; a
 * near miss of an own domain */
static void check_word(struct lint *l, const struct rules_lint_ctx *c, const char *file,
		       unsigned line, const char *w)
{
	const char *at = strrchr(w, '@'), *dom = at ? at + 1 : w;
	char d[LINT_MAX_DOMAIN + 1];

	if (strchr(w, ',')) {
		warn(l, file, line, "'%s' holds a comma: rules separate values with spaces, so the "
		     "comma is part of the value and matches no mail; separate the values with "
		     "spaces only", w);
		return;
	}
	/* @name, @/file and @team:name are lists; @acme.com is a domain */
	if (strchr(dom, '/') || strchr(dom, ':') || !strchr(dom, '.') || strlen(dom) < 5 ||
	    strlen(dom) > LINT_MAX_DOMAIN)
		return;
	snprintf(d, sizeof d, "%s", dom);
	for (char *p = d; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	if (own_of(c, d))
		return;
	for (size_t i = 0; i < c->n_own_domains; i++)
		if (distance(d, c->own_domains[i]) <= 2) {
			warn(l, file, line, "%s is not one of Domains but is close to %s: a typo? "
			     "(mail of %s never matches it)", d, c->own_domains[i], c->own_domains[i]);
			return;
		}
}

/* check_text - every plain word of a rule's text */
static void check_text(struct lint *l, const struct rules_lint_ctx *c, const struct rules_prov *p)
{
	struct toks t;
	struct diag d = { 0 };

	if (lex_line(p->file, p->line, p->text, &t, &d) == 0)
		for (size_t i = 0; i < t.n; i++)
			if (t.v[i].kind == TOK_WORD)
				check_word(l, c, p->file, p->line, t.v[i].text);
	toks_free(&t);
	free(d.buf);
}

/* check_lists - every word of the named lists and @files */
static void check_lists(struct lint *l, const struct rules *r, const struct rules_lint_ctx *c)
{
	for (size_t i = 0; i < r->n_lists; i++)
		for (size_t k = 0; k < r->lists[i]->n; k++) {
			const struct pat *p = &r->lists[i]->v[k];

			if (p->kind == TOK_WORD && p->file && strcmp(p->file, RULES_BUILTIN_FILE) != 0)
				check_word(l, c, p->file, p->line, p->text);
		}
}

/* test_of - what rule R tests, as written: its text after "if" (after the
 * verb for never/always, whose participants are part of the test); NULL
 * when the text cannot be read.  Free it. */
static char *test_of(const struct rule *r)
{
	const char *t = r->prov.text, *p = strstr(t, " if ");

	if (r->verb == V_NEVER || r->verb == V_ALWAYS)
		p = strchr(t, ' ');
	return p ? strdup(p + 1) : strdup("");
}

/* always_holds - R matches every message it is asked about */
static int always_holds(const struct rule *r)
{
	if (r->verb == V_NEVER || r->verb == V_ALWAYS)
		return r->who.any && r->n_conds == 0;
	return r->n_conds == 0;
}

/* check_reach - in a first-match section, rules after one that always holds,
 * or that test exactly what an earlier rule tests, are never reached */
static void check_reach(struct lint *l, const struct rules *r, enum section s)
{
	const struct rule *all = NULL;
	char **tests = calloc(r->nsec[s] + 1, sizeof *tests);

	if (!tests) {
		l->oom = 1;
		return;
	}
	for (size_t i = 0; i < r->nsec[s]; i++) {
		const struct rule *x = r->sec[s][i];

		if (x->prov.file && strcmp(x->prov.file, RULES_BUILTIN_FILE) == 0)
			break;
		tests[i] = test_of(x);
		if (all) {
			warn(l, x->prov.file, x->prov.line, "never reached: line %u (%s) matches every "
			     "message first; move this rule above it", all->prov.line, all->prov.text);
			continue;
		}
		for (size_t k = 0; k < i && tests[i]; k++)
			if (tests[k] && strcmp(tests[k], tests[i]) == 0 && *tests[i]) {
				warn(l, x->prov.file, x->prov.line, "never reached: line %u tests the "
				     "same (%s) and comes first; merge the two or change the test",
				     r->sec[s][k]->prov.line, tests[i]);
				break;
			}
		if (always_holds(x))
			all = x;
	}
	for (size_t i = 0; i < r->nsec[s]; i++)
		free(tests[i]);
	free(tests);
}

/* check_accounts - a domain in two account mappings: the first one wins */
static void check_accounts(struct lint *l, const struct rules *r)
{
	for (size_t i = 0; i < r->nsec[SEC_ASSOCIATE]; i++) {
		const struct rule *a = r->sec[SEC_ASSOCIATE][i];

		if (a->verb != V_ACCOUNT)
			continue;
		for (size_t k = 0; k < a->who.domains.cap; k++) {
			const char *dom = a->who.domains.v[k];

			if (!dom)
				continue;
			for (size_t j = 0; j < i; j++) {
				const struct rule *b = r->sec[SEC_ASSOCIATE][j];

				if (b->verb == V_ACCOUNT && strset_has(&b->who.domains, dom)) {
					warn(l, a->prov.file, a->prov.line, "%s is also in account \"%s\" "
					     "(line %u), which comes first and takes it: this account never "
					     "gets its mail; keep the domain in one account", dom, b->name,
					     b->prov.line);
					break;
				}
			}
		}
	}
}

/* capture_of - the pattern of the first capturing group of the regex BODY
 * (the whole body when it has none), into OUT; 0, or -1 when it cannot be
 * told (too long, unbalanced) */
static int capture_of(const char *body, char *out, size_t len)
{
	int depth = 0, in_class = 0;
	const char *start = NULL;

	for (const char *p = body; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (in_class) {
			in_class = *p != ']';
			continue;
		}
		if (*p == '[') {
			in_class = 1;
			if (p[1] == ']' || (p[1] == '^' && p[2] == ']'))
				p += p[1] == ']' ? 1 : 2;
		} else if (*p == '(') {
			if (!start && p[1] != '?')
				start = p + 1, depth = 0;
			depth++;
		} else if (*p == ')' && start && --depth == 0) {
			if ((size_t)(p - start) >= len)
				return -1;
			snprintf(out, len, "%.*s", (int)(p - start), start);
			return 0;
		}
	}
	if (start || strlen(body) >= len)
		return -1;
	snprintf(out, len, "%s", body);
	return 0;
}

/* regex_of - the /body/ and flags of rule R's text; 0, or -1 */
static int regex_of(const struct rule *r, char *body, size_t blen, char *flags, size_t flen)
{
	struct toks t;
	struct diag d = { 0 };
	int rc = -1;

	if (lex_line(r->prov.file, r->prov.line, r->prov.text, &t, &d) == 0)
		for (size_t i = 0; i < t.n && rc < 0; i++)
			if (t.v[i].kind == TOK_REGEX) {
				snprintf(body, blen, "%s", t.v[i].text);
				snprintf(flags, flen, "%s", t.v[i].flags ? t.v[i].flags : "");
				rc = 0;
			}
	toks_free(&t);
	free(d.buf);
	return rc;
}

/* key_fits - can the capture SUB (with FLAGS) be exactly KEY? 1, 0, or -1 */
static int key_fits(const char *sub, const char *flags, const char *key)
{
	char whole[4200];
	int err;
	PCRE2_SIZE off;
	pcre2_code *re;
	pcre2_match_data *md;
	uint32_t opt = strchr(flags, 'i') ? PCRE2_CASELESS : 0;
	int rc;

	snprintf(whole, sizeof whole, "^(?:%s)$", sub);
	re = pcre2_compile((PCRE2_SPTR)whole, PCRE2_ZERO_TERMINATED, opt | PCRE2_UTF, &err, &off,
			   NULL);
	if (!re)
		return -1;
	md = pcre2_match_data_create_from_pattern(re, NULL);
	rc = md ? pcre2_match(re, (PCRE2_SPTR)key, strlen(key), 0, 0, md, NULL) >= 0 : -1;
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc;
}

/* check_deals - a deal subject pattern that can capture no imported key */
static void check_deals(struct lint *l, const struct rules *r, const struct rules_lint_ctx *c)
{
	char body[4096], flags[16], sub[4096];

	if (!c->n_deal_keys)
		return;
	for (size_t i = 0; i < r->nsec[SEC_ASSOCIATE]; i++) {
		const struct rule *x = r->sec[SEC_ASSOCIATE][i];
		int fits = 0;

		if (x->verb != V_DEAL_SUBJECT || regex_of(x, body, sizeof body, flags, sizeof flags) < 0 ||
		    capture_of(body, sub, sizeof sub) < 0)
			continue;
		for (size_t k = 0; k < c->n_deal_keys && fits == 0; k++)
			fits = key_fits(sub, flags, c->deal_keys[k]);
		if (fits == 0)
			warn(l, x->prov.file, x->prov.line, "no imported deal key can be what /%s/ "
			     "captures (%s; keys such as %s): each match makes a new deal with no name; "
			     "capture only the key, as the deals file writes it", body, sub,
			     c->deal_keys[0]);
	}
}

/* by_place - qsort order of two warning lines: file, then line number */
static int by_place(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	const char *cx = strstr(x, ": warning: "), *cy = strstr(y, ": warning: ");
	const char *lx = cx, *ly = cy;
	int c;

	while (lx > x && lx[-1] != ':')
		lx--;
	while (ly > y && ly[-1] != ':')
		ly--;
	c = strncmp(x, y, (size_t)((lx - x) < (ly - y) ? lx - x : ly - y));
	if (c == 0 && lx - x != ly - y)
		c = lx - x < ly - y ? -1 : 1;
	if (c == 0)
		c = atoi(lx) - atoi(ly);
	return c ? c : strcmp(x, y);
}

/* sort_lines - put L's lines in file and line order, without the last
 * newline; 0, or -1 without memory */
static int sort_lines(struct lint *l)
{
	struct diag *d = &l->d;
	char **v = calloc((size_t)d->n + 1, sizeof *v), *copy = malloc(d->len + 1);
	size_t n = 0, at = 0;

	if (!v || !copy) {
		free(v);
		free(copy);
		return -1;
	}
	for (char *p = strtok(d->buf, "\n"); p && n < d->n; p = strtok(NULL, "\n"))
		v[n++] = p;
	qsort(v, n, sizeof *v, by_place);
	for (size_t i = 0; i < n; i++)
		at += (size_t)sprintf(copy + at, "%s%s", i ? "\n" : "", v[i]);
	copy[at] = '\0';
	free(d->buf);
	free(v);
	d->buf = copy;
	d->len = at;
	return 0;
}

/* rules_lint - see rules.h */
int rules_lint(const struct rules *r, const struct rules_lint_ctx *ctx, char **out)
{
	static const struct rules_lint_ctx none = { 0 };
	struct lint l = { 0 };

	ctx = ctx ? ctx : &none;
	*out = NULL;
	if (r->policy_prov && r->policy_earlier)
		warn(&l, r->policy_prov->file, r->policy_prov->line, "a second policy line: it "
		     "overrides line %u (the last one wins); keep one", r->policy_earlier);
	if (r->require_prov && r->require_earlier)
		warn(&l, r->require_prov->file, r->require_prov->line, "a second require-auth line: "
		     "it overrides line %u (the last one wins); keep one", r->require_earlier);
	if (r->require != REQ_OFF && r->n_trust == 0 && r->require_prov)
		warn(&l, r->require_prov->file, r->require_prov->line, "require-auth without a "
		     "\"trust authserv\" line: no Authentication-Results is trusted, so all inbound "
		     "mail counts as unauthenticated and makes no contact; add: trust authserv "
		     "YOUR-MX-HOST");
	for (size_t i = 0; i < r->n_file; i++)
		check_text(&l, ctx, &r->v[i]->prov);
	check_lists(&l, r, ctx);
	check_reach(&l, r, SEC_LOG);
	check_reach(&l, r, SEC_CAPTURE);
	check_reach(&l, r, SEC_VISIBILITY);
	check_accounts(&l, r);
	check_deals(&l, r, ctx);
	if (l.oom || (l.d.n && sort_lines(&l) < 0)) {
		free(l.d.buf);
		return -1;
	}
	*out = l.d.buf;
	return (int)l.d.n;
}
