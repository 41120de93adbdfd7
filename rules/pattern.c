/*
 * pattern.c - patterns and matchers: /regex/ (pcre2, JIT), addresses,
 * domains, literals, named lists, @file lists and team members
 *
 * A test's patterns are flattened at load time into one struct matcher:
 * exact addresses and domains go into hash sets (so a free-mail list of
 * thousands of domains costs one lookup per label), regexes and literals
 * into arrays.  Everything a matcher points to belongs to the rules.
 *
 * How a word is read depends on what the test compares.  Address tests:
 * "local@domain" is an address, "@domain.tld" or "domain.tld" a domain with
 * its subdomains.  Text tests (subject, header, attachment names): a word
 * or "quoted literal" is a case-insensitive substring.  In both, "@name" is
 * a list, "@/path" a file of patterns (one a line; relative to the rules
 * file), "@team:NAME" a team's members and "@automated" the built-in test
 * for machine addresses (no-reply, mailer-daemon, postmaster, bounces...).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_int.h"
#include "../common/common.h"

/* fnv - FNV-1a of a lower-cased string */
static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 1099511628211ULL;
	}
	return h;
}

/* strset_grow - double the table; 0 or -1 */
static int strset_grow(struct strset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 16, i, j;
	const char **nv = calloc(cap, sizeof *nv);

	if (!nv)
		return -1;
	for (i = 0; i < s->cap; i++) {
		if (!s->v[i])
			continue;
		for (j = fnv(s->v[i]) & (cap - 1); nv[j]; j = (j + 1) & (cap - 1))
			;
		nv[j] = s->v[i];
	}
	free(s->v);
	s->v = nv;
	s->cap = cap;
	return 0;
}

/* strset_has - 1 when KEY (ASCII case-insensitive) is in the set */
int strset_has(const struct strset *s, const char *key)
{
	size_t j;

	if (!s->n)
		return 0;
	for (j = fnv(key) & (s->cap - 1); s->v[j]; j = (j + 1) & (s->cap - 1))
		if (strcasecmp(s->v[j], key) == 0)
			return 1;
	return 0;
}

/* strset_add - add KEY (borrowed) unless present; 0, or -1 when memory runs out */
int strset_add(struct strset *s, const char *key)
{
	size_t j;

	if (strset_has(s, key))
		return 0;
	if ((s->n + 1) * 2 > s->cap && strset_grow(s) < 0)
		return -1;
	for (j = fnv(key) & (s->cap - 1); s->v[j]; j = (j + 1) & (s->cap - 1))
		;
	s->v[j] = key;
	s->n++;
	return 0;
}

/* strset_free - free the table (not the strings) */
void strset_free(struct strset *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* domain_in - 1 when DOMAIN or one of its parent domains is in the set */
int domain_in(const struct strset *s, const char *domain)
{
	const char *p = domain;

	if (!s->n)
		return 0;
	while (p && *p) {
		if (strset_has(s, p))
			return 1;
		p = strchr(p, '.');
		if (p)
			p++;
	}
	return 0;
}

/* lower_dup - an ASCII lower-case copy (free()), NULL when memory runs out */
char *lower_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

/* regex_options - pcre2 options of the flag letters; -1 at an unknown letter (*bad) */
static int regex_options(const char *flags, uint32_t *opt, char *bad)
{
	*opt = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
	for (const char *f = flags ? flags : ""; *f; f++) {
		switch (*f) {
		case 'i': *opt |= PCRE2_CASELESS; break;
		case 'm': *opt |= PCRE2_MULTILINE; break;
		case 's': *opt |= PCRE2_DOTALL; break;
		case 'x': *opt |= PCRE2_EXTENDED; break;
		default: *bad = *f; return -1;
		}
	}
	return 0;
}

/*
 * regex_compile - compile BODY with FLAGS and JIT it.  Returns the code
 * (owned by the rules), or NULL after reporting pcre2's message and the
 * column of the offending character (COL is the opening '/').
 */
pcre2_code *regex_compile(struct loader *ld, const char *body, const char *flags, unsigned line,
			  unsigned col)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off = 0;
	uint32_t opt;
	int errcode = 0;
	char bad = 0;
	pcre2_code *re;

	if (regex_options(flags, &opt, &bad) < 0) {
		diag_add(ld->d, ld->file, line, col + (unsigned)strlen(body) + 2,
			 "unknown regex flag '%c' (use i, m, s or x)", bad);
		return NULL;
	}
	re = pcre2_compile((PCRE2_SPTR)body, PCRE2_ZERO_TERMINATED, opt, &errcode, &off, NULL);
	if (!re) {
		pcre2_get_error_message(errcode, msg, sizeof msg);
		diag_add(ld->d, ld->file, line, col + 1 + (unsigned)off,
			 "bad regex /%s/: %s at offset %zu", body, (const char *)msg, (size_t)off);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* no JIT: the interpreter still works */
	if (!rules_keep_re(ld->r, re)) {
		diag_add(ld->d, ld->file, line, col, "out of memory");
		return NULL;
	}
	return re;
}

/* regex_match - 1 when RE matches somewhere in S */
int regex_match(const pcre2_code *re, const char *s, pcre2_match_data *md)
{
	return pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL) >= 0;
}

/* pat_compile - a list entry from token T; 0, or -1 after reporting */
int pat_compile(struct loader *ld, const struct tok *t, unsigned line, struct pat *p)
{
	memset(p, 0, sizeof *p);
	p->kind = t->kind;
	p->file = ld->file;
	p->line = line;
	p->col = t->col;
	p->text = rules_keep(ld->r, strdup(t->text));
	if (!p->text)
		return -1;
	if (t->kind == TOK_REGEX) {
		p->re = regex_compile(ld, t->text, t->flags, line, t->col);
		if (!p->re)
			return -1;
	}
	return 0;
}

/* push_ptr - append P to a borrowed pointer array; 0 or -1 */
static int push_ptr(void ***v, size_t *n, void *p)
{
	void **nv = realloc(*v, (*n + 1) * sizeof *nv);

	if (!nv)
		return -1;
	nv[(*n)++] = p;
	*v = nv;
	return 0;
}

/*
 * add_word - one word or literal TEXT into M, read for CTX; 0, or -1 after
 * reporting at FILE:LINE:COL.  TEXT must belong to the rules.
 */
static int add_word(struct loader *ld, struct matcher *m, const char *text, enum match_ctx ctx,
		    const char *file, unsigned line, unsigned col)
{
	const char *at = strchr(text, '@');
	char *low;
	int rc;

	if (ctx == CTX_TEXT) {
		low = lower_dup(text);
		if (!low || !rules_keep(ld->r, low))
			return -1;
		return push_ptr((void ***)&m->lits, &m->n_lits, low);
	}
	if (at == text && strchr(text, '.'))
		text++;                 /* "@acme.com": the domain */
	else if (!at && !strchr(text, '.')) {
		diag_add(ld->d, file, line, col,
			 "'%s' is not an address, a domain, a /regex/ or an @list", text);
		return -1;
	}
	low = lower_dup(text);
	if (!low || !rules_keep(ld->r, low))
		return -1;
	rc = strchr(low, '@') ? strset_add(&m->addrs, low) : strset_add(&m->domains, low);
	if (rc < 0)
		diag_add(ld->d, file, line, col, "out of memory");
	return rc;
}

/* add_pat - one list entry P into M; 0 or -1 */
static int add_pat(struct loader *ld, struct matcher *m, const struct pat *p, enum match_ctx ctx)
{
	if (p->kind == TOK_REGEX)
		return push_ptr((void ***)&m->re, &m->n_re, p->re);
	if (p->kind == TOK_WORD && p->text[0] == '@' && !strchr(p->text, '.')) {
		diag_add(ld->d, p->file, p->line, p->col,
			 "'%s': a list entry cannot name another list", p->text);
		return -1;
	}
	return add_word(ld, m, p->text, ctx, p->file, p->line, p->col);
}

/* add_list - every entry of L into M; 0 or -1 */
static int add_list(struct loader *ld, struct matcher *m, const struct plist *l, enum match_ctx ctx)
{
	int rc = 0;

	for (size_t i = 0; i < l->n; i++)
		if (add_pat(ld, m, &l->v[i], ctx) < 0)
			rc = -1;
	return rc;
}

/* add_team - the members of team NAME into M; 0 or -1 */
static int add_team(struct loader *ld, struct matcher *m, const char *name, unsigned line,
		    unsigned col)
{
	struct team *t = rules_team_find(ld->r, name);
	size_t i;

	if (!t) {
		diag_add(ld->d, ld->file, line, col, "unknown team '%s' (define it with: team %s = ...)",
			 name, name);
		return -1;
	}
	for (i = 0; i < t->pub.n_members; i++)
		if (strset_add(&m->addrs, t->pub.members[i]) < 0)
			return -1;
	return 0;
}

/* add_at - a token starting with '@': a file, a team, @automated, a list or a domain */
static int add_at(struct loader *ld, struct matcher *m, const struct tok *t, unsigned line,
		  enum match_ctx ctx)
{
	const char *name = t->text + 1;
	struct plist *l;

	if (name[0] == '/' || strncmp(name, "./", 2) == 0 || strncmp(name, "../", 3) == 0) {
		l = rules_file_list(ld, name, line, t->col);
		return l ? add_list(ld, m, l, ctx) : -1;
	}
	if (strncmp(name, "team:", 5) == 0)
		return add_team(ld, m, name + 5, line, t->col);
	if (strcmp(name, "automated") == 0) {
		if (ctx != CTX_ADDR) {
			diag_add(ld->d, ld->file, line, t->col, "@automated tests addresses only");
			return -1;
		}
		m->automated = 1;
		return 0;
	}
	if (strchr(name, '.'))
		return add_word(ld, m, rules_keep(ld->r, strdup(t->text)), ctx, ld->file, line, t->col);
	l = rules_list_find(ld->r, name);
	if (!l) {
		diag_add(ld->d, ld->file, line, t->col, "unknown list '@%s' (define it first with: list %s = ...)",
			 name, name);
		return -1;
	}
	return add_list(ld, m, l, ctx);
}

/*
 * matcher_add_tok - token T (a pattern) into M, read for CTX.  Returns 0,
 * or -1 after reporting the error.
 */
int matcher_add_tok(struct loader *ld, struct matcher *m, const struct tok *t, unsigned line,
		    enum match_ctx ctx)
{
	pcre2_code *re;
	const char *text;

	if (t->kind == TOK_REGEX) {
		re = regex_compile(ld, t->text, t->flags, line, t->col);
		return re ? push_ptr((void ***)&m->re, &m->n_re, re) : -1;
	}
	if (t->kind == TOK_WORD && t->text[0] == '@')
		return add_at(ld, m, t, line, ctx);
	text = rules_keep(ld->r, strdup(t->text));
	return text ? add_word(ld, m, text, ctx, ld->file, line, t->col) : -1;
}

/* matcher_free - free M's arrays and tables (what they point to is the rules') */
void matcher_free(struct matcher *m)
{
	strset_free(&m->addrs);
	strset_free(&m->domains);
	free(m->re);
	free(m->lits);
	memset(m, 0, sizeof *m);
}

/* matcher_addr - 1 when the address ADDR matches M */
int matcher_addr(const struct matcher *m, const char *addr, pcre2_match_data *md)
{
	const char *at;

	if (m->any)
		return 1;
	if (m->automated && mail_addr_is_automated(addr))
		return 1;
	if (strset_has(&m->addrs, addr))
		return 1;
	at = strrchr(addr, '@');
	if (at && domain_in(&m->domains, at + 1))
		return 1;
	for (size_t i = 0; i < m->n_re; i++)
		if (regex_match(m->re[i], addr, md))
			return 1;
	return 0;
}

/* matcher_text - 1 when TEXT matches M (regex, or literal as a case-insensitive substring) */
int matcher_text(const struct matcher *m, const char *text, pcre2_match_data *md)
{
	if (m->any)
		return 1;
	for (size_t i = 0; i < m->n_lits; i++)
		if (strcasestr(text, m->lits[i]))
			return 1;
	for (size_t i = 0; i < m->n_re; i++)
		if (regex_match(m->re[i], text, md))
			return 1;
	return 0;
}

/* resolve - PATH relative to the rules file's folder; a new string */
static char *resolve(const struct loader *ld, const char *path)
{
	char *out;

	if (path[0] == '/' || !ld->dir)
		return strdup(path);
	if (asprintf(&out, "%s/%s", ld->dir, path) < 0)
		return NULL;
	return out;
}

/* file_entries - the patterns of a list file's TEXT into L; reports at LISTFILE */
static int file_entries(struct loader *ld, struct plist *l, const char *listfile, char *text)
{
	const char *saved = ld->file;
	char *line, *next;
	unsigned n = 0;
	struct toks t;
	struct pat *nv;
	int rc = 0;

	ld->file = listfile;
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n++;
		if (lex_line(listfile, n, line, &t, ld->d) < 0) {
			rc = -1;
		} else if (t.n > 1) {
			diag_add(ld->d, listfile, n, t.v[1].col, "one entry per line");
			rc = -1;
		} else if (t.n == 1) {
			nv = realloc(l->v, (l->n + 1) * sizeof *nv);
			if (!nv || pat_compile(ld, &t.v[0], n, (l->v = nv, &nv[l->n])) < 0)
				rc = -1;
			else
				l->n++;
		}
		toks_free(&t);
	}
	ld->file = saved;
	return rc;
}

/*
 * rules_file_list - the list read from the file PATH (loaded once per
 * load).  Returns it, or NULL after reporting at LINE:COL (a missing file)
 * or at the list file's own line (a bad entry).
 */
struct plist *rules_file_list(struct loader *ld, const char *path, unsigned line, unsigned col)
{
	char *full = resolve(ld, path), *text = NULL, *name = NULL;
	struct plist *l = NULL, **nv;
	size_t len;

	if (!full)
		return NULL;
	if (asprintf(&name, "@%s", full) < 0)
		name = NULL;
	if (!name)
		goto out;
	l = rules_list_find(ld->r, name);
	if (l)
		goto out;
	text = read_file(full, RULES_MAX_FILE, &len);
	if (!text) {
		diag_add(ld->d, ld->file, line, col, "cannot read list @%s: %s", path,
			 read_file_error(errno));
		goto out;
	}
	l = calloc(1, sizeof *l);
	nv = l ? realloc(ld->r->lists, (ld->r->n_lists + 1) * sizeof *nv) : NULL;
	if (!nv) {
		free(l);
		l = NULL;
		goto out;
	}
	ld->r->lists = nv;
	nv[ld->r->n_lists++] = l;
	l->name = name;
	name = NULL;
	if (file_entries(ld, l, rules_keep(ld->r, strdup(full)), text) < 0)
		l = NULL;
out:
	free(full);
	free(name);
	free(text);
	return l;
}
