/*
 * parse.c - read a rules file into a struct rules: definitions, sections,
 * rules and their conditions; load, reference counting, provenance
 *
 * Grammar (crmilter-rules(5)):
 *
 *   list NAME = PATTERN...          team NAME = ADDRESS...
 *   trust authserv ID...            [log] [capture] [associate] [visibility]
 *   VERB [ARGS] [if [not] TEST [ARGS] [and [not] TEST [ARGS]]...]
 *
 * A line with an error is reported and dropped; parsing goes on so that
 * every error of the file is reported at once.  After the file, the
 * built-in rules (builtin.c) are parsed into the same rules, so each
 * section ends with the defaults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <stdarg.h>

#include <glib.h>

#include "rules_int.h"
#include "../common/common.h"

static const char *const section_names[SEC_N] = { "log", "capture", "associate", "visibility" };
static const char *const level_names[] = { "nothing", "metadata", "subject", "everything" };

/* rules_keep - make the rules own S (may be NULL); returns S or NULL (S freed) */
const char *rules_keep(struct rules *r, char *s)
{
	char **nv;

	if (!s)
		return NULL;
	nv = realloc(r->strings, (r->n_strings + 1) * sizeof *nv);
	if (!nv) {
		free(s);
		return NULL;
	}
	r->strings = nv;
	nv[r->n_strings++] = s;
	return s;
}

/* rules_keep_re - make the rules own RE; returns RE or NULL (RE freed) */
pcre2_code *rules_keep_re(struct rules *r, pcre2_code *re)
{
	pcre2_code **nv = realloc(r->codes, (r->n_codes + 1) * sizeof *nv);

	if (!nv) {
		pcre2_code_free(re);
		return NULL;
	}
	r->codes = nv;
	nv[r->n_codes++] = re;
	return re;
}

/* rules_list_find - the list NAME (or "@/path" of a loaded file), or NULL */
struct plist *rules_list_find(struct rules *r, const char *name)
{
	for (size_t i = 0; i < r->n_lists; i++)
		if (strcmp(r->lists[i]->name, name) == 0)
			return r->lists[i];
	return NULL;
}

/* rules_team_find - the team NAME, or NULL */
struct team *rules_team_find(struct rules *r, const char *name)
{
	for (size_t i = 0; i < r->n_teams; i++)
		if (strcmp(r->teams[i]->name, name) == 0)
			return r->teams[i];
	return NULL;
}

/* text_hash - 16 hex digits of FNV-1a 64 of S into OUT (17 bytes) */
static void text_hash(const char *s, char *out)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* prov_fill - the provenance of the line being parsed */
static int prov_fill(struct loader *ld, const struct toks *t, struct rules_prov *p)
{
	char hash[17];

	text_hash(t->line, hash);
	p->file = ld->file;
	p->line = ld->line;
	p->text = rules_keep(ld->r, strdup(t->line));
	p->hash = rules_keep(ld->r, strdup(hash));
	return p->text && p->hash ? 0 : -1;
}

/* err_at - report at token I of T (or the end of the line); returns -1 */
static int err_at(struct loader *ld, const struct toks *t, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int err_at(struct loader *ld, const struct toks *t, size_t i, const char *fmt, ...)
{
	unsigned col = i < t->n ? t->v[i].col : (unsigned)strlen(t->line) + 1;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_add(ld->d, ld->file, ld->line, col, "%s", msg);
	return -1;
}

/* is_word - token I is the word W */
static int is_word(const struct toks *t, size_t i, const char *w)
{
	return i < t->n && t->v[i].kind == TOK_WORD && strcmp(t->v[i].text, w) == 0;
}

/* valid_name - a list or team name: letters, digits, '-', '_' */
static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_')
			return 0;
	return 1;
}

/* def_head - check "KIND NAME = ..." and return NAME's token, or -1 */
static int def_head(struct loader *ld, const struct toks *t, const char *kind)
{
	if (t->n < 2 || t->v[1].kind != TOK_WORD || !valid_name(t->v[1].text))
		return err_at(ld, t, 1, "%s needs a name (letters, digits, '-', '_')", kind);
	if (!is_word(t, 2, "="))
		return err_at(ld, t, 2, "expected '=' after the name (%s NAME = ...)", kind);
	if (t->n < 4)
		return err_at(ld, t, 3, "%s needs at least one entry after '='", kind);
	return 0;
}

/* is_file_ref - "@/path", "@./path" or "@../path" */
static int is_file_ref(const char *w)
{
	return w[0] == '@' && (w[1] == '/' || strncmp(w + 1, "./", 2) == 0 ||
			       strncmp(w + 1, "../", 3) == 0);
}

/*
 * list_include - the entries of the @file at token T appended to L, which
 * keeps room for the REST patterns still to come on the line
 */
static int list_include(struct loader *ld, struct plist *l, const struct tok *t, size_t rest)
{
	struct plist *f = rules_file_list(ld, t->text + 1, ld->line, t->col);
	struct pat *nv;

	if (!f)
		return -1;
	nv = realloc(l->v, (l->n + f->n + rest + 1) * sizeof *nv);
	if (!nv)
		return -1;
	l->v = nv;
	memcpy(l->v + l->n, f->v, f->n * sizeof *nv);
	l->n += f->n;
	return 0;
}

/* def_list - "list NAME = PATTERN..." */
static int def_list(struct loader *ld, const struct toks *t)
{
	struct plist *l, **nv;
	int rc = 0;

	if (def_head(ld, t, "list") < 0)
		return -1;
	if (rules_list_find(ld->r, t->v[1].text) || strcmp(t->v[1].text, "automated") == 0)
		return err_at(ld, t, 1, "list '%s' is already defined", t->v[1].text);
	l = calloc(1, sizeof *l);
	nv = l ? realloc(ld->r->lists, (ld->r->n_lists + 1) * sizeof *nv) : NULL;
	if (!nv) {
		free(l);
		return err_at(ld, t, 0, "out of memory");
	}
	ld->r->lists = nv;
	nv[ld->r->n_lists++] = l;    /* before any @file below grows the array */
	l->v = calloc(t->n, sizeof *l->v);
	l->name = strdup(t->v[1].text);
	for (size_t i = 3; i < t->n && l->v; i++) {
		if (t->v[i].kind == TOK_WORD && is_file_ref(t->v[i].text)) {
			if (list_include(ld, l, &t->v[i], t->n - i - 1) < 0)
				rc = -1;
			continue;
		}
		if (t->v[i].kind == TOK_WORD && t->v[i].text[0] == '@' && !strchr(t->v[i].text, '.')) {
			rc = err_at(ld, t, i, "'%s': a list cannot include another list", t->v[i].text);
			continue;
		}
		if (pat_compile(ld, &t->v[i], ld->line, &l->v[l->n]) < 0)
			rc = -1;
		else
			l->n++;
	}
	return rc;
}

/* def_team - "team NAME = ADDRESS..." */
static int def_team(struct loader *ld, const struct toks *t)
{
	struct team *tm, **nv;
	const char **mem;
	int rc = 0;

	if (def_head(ld, t, "team") < 0)
		return -1;
	if (rules_team_find(ld->r, t->v[1].text))
		return err_at(ld, t, 1, "team '%s' is already defined", t->v[1].text);
	tm = calloc(1, sizeof *tm);
	mem = calloc(t->n, sizeof *mem);
	nv = tm && mem ? realloc(ld->r->teams, (ld->r->n_teams + 1) * sizeof *nv) : NULL;
	if (!nv) {
		free(tm);
		free(mem);
		return err_at(ld, t, 0, "out of memory");
	}
	ld->r->teams = nv;
	tm->name = strdup(t->v[1].text);
	tm->pub.name = tm->name;
	tm->pub.members = mem;
	for (size_t i = 3; i < t->n; i++) {
		const char *at = strchr(t->v[i].text, '@');

		if (t->v[i].kind == TOK_REGEX || !at || at == t->v[i].text || !at[1]) {
			rc = err_at(ld, t, i, "team members are addresses (alice@example.com), not '%s'",
				    t->v[i].text);
			continue;
		}
		mem[tm->pub.n_members++] = rules_keep(ld->r, lower_dup(t->v[i].text));
	}
	nv[ld->r->n_teams++] = tm;
	return rc;
}

/* def_trust - "trust authserv ID..." */
static int def_trust(struct loader *ld, const struct toks *t)
{
	char **nv;

	if (!is_word(t, 1, "authserv") && !is_word(t, 1, "authserv-id"))
		return err_at(ld, t, 1, "expected 'trust authserv ID...'");
	if (t->n < 3)
		return err_at(ld, t, 2, "trust authserv needs at least one authserv-id");
	for (size_t i = 2; i < t->n; i++) {
		nv = realloc(ld->r->trust, (ld->r->n_trust + 1) * sizeof *nv);
		if (!nv)
			return -1;
		ld->r->trust = nv;
		nv[ld->r->n_trust] = lower_dup(t->v[i].text);
		if (nv[ld->r->n_trust])
			ld->r->n_trust++;
	}
	return 0;
}

/* section_line - "[name]" */
static int section_line(struct loader *ld, const struct toks *t)
{
	const char *w = t->v[0].text;
	size_t len = strlen(w);

	for (int s = 0; s < SEC_N; s++)
		if (len == strlen(section_names[s]) + 2 && w[len - 1] == ']' &&
		    strncmp(w + 1, section_names[s], len - 2) == 0 && t->n == 1) {
			ld->sec = (enum section)s;
			return 0;
		}
	return err_at(ld, t, 0, "unknown section %s: use [log], [capture], [associate] or [visibility]",
		      w);
}

/* rule_new - a rule of verb V for the current line, added to the rules */
static struct rule *rule_new(struct loader *ld, const struct toks *t, enum verb v)
{
	struct rule *r = calloc(1, sizeof *r);

	if (!r || prov_fill(ld, t, &r->prov) < 0) {
		free(r);
		return NULL;
	}
	r->sec = ld->sec;
	r->verb = v;
	return r;
}

/* rule_free - free one rule */
static void rule_free(struct rule *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_conds; i++)
		cond_free(&r->conds[i]);
	free(r->conds);
	matcher_free(&r->who);
	free(r->reason);
	free(r->name);
	free(r->key);
	free(r);
}

/* rule_add - append R to the rules and its section; 0 or -1 */
static int rule_add(struct loader *ld, struct rule *r)
{
	struct rule **nv = realloc(ld->r->v, (ld->r->n + 1) * sizeof *nv), **ns;

	if (!nv)
		return -1;
	ld->r->v = nv;
	ns = realloc(ld->r->sec[r->sec], (ld->r->nsec[r->sec] + 1) * sizeof *ns);
	if (!ns)
		return -1;
	ld->r->sec[r->sec] = ns;
	ns[ld->r->nsec[r->sec]++] = r;
	nv[ld->r->n++] = r;
	if (!ld->builtin)
		ld->r->n_file++;
	return 0;
}

/* parse_conds - "if COND [and COND]..." from token *i to the end of the line */
static int parse_conds(struct loader *ld, const struct toks *t, size_t i, struct rule *r)
{
	int rc = 0;

	if (i >= t->n)
		return 0;
	if (!is_word(t, i, "if"))
		return err_at(ld, t, i, "unexpected '%s': expected 'if' or the end of the line",
			      t->v[i].text);
	if (++i >= t->n)
		return err_at(ld, t, i, "'if' needs a condition");
	r->conds = calloc(t->n, sizeof *r->conds);
	if (!r->conds)
		return -1;
	while (i < t->n) {
		if (cond_parse(ld, t, &i, ld->line, &r->conds[r->n_conds], r->sec) < 0) {
			cond_free(&r->conds[r->n_conds]);   /* a half-parsed condition */
			rc = -1;
			break;
		}
		r->n_conds++;
		if (i < t->n && !is_word(t, i, "and"))
			return err_at(ld, t, i, "unexpected '%s': conditions are joined with 'and'",
				      t->v[i].text);
		if (i < t->n && ++i >= t->n)
			return err_at(ld, t, i, "'and' needs a condition");
	}
	return rc;
}

/* take_reason - an optional "quoted reason" at token *i */
static int take_reason(const struct toks *t, size_t *i, struct rule *r)
{
	if (*i < t->n && t->v[*i].kind == TOK_QUOTED) {
		r->reason = strdup(t->v[*i].text);
		(*i)++;
		return r->reason ? 0 : -1;
	}
	return 0;
}

/* level_of - the level named by token I, or -1 */
static int level_of(const struct toks *t, size_t i)
{
	for (int k = 0; i < t->n && k < 4; k++)
		if (is_word(t, i, level_names[k]))
			return k;
	return -1;
}

/* args_log - [log] log|skip|private ["reason"] */
static int args_log(struct loader *ld, const struct toks *t, size_t *i, struct rule *r)
{
	(void)ld;
	return take_reason(t, i, r);
}

/* args_who - [capture] never|always [PATTERN...]: patterns or a condition needed */
static int args_who(struct loader *ld, const struct toks *t, size_t *i, struct rule *r)
{
	int rc = 0;

	for (; *i < t->n && !is_word(t, *i, "if"); (*i)++)
		if (matcher_add_tok(ld, &r->who, &t->v[*i], ld->line, CTX_ADDR) < 0)
			rc = -1;
	if (*i == 1 && *i >= t->n)
		return err_at(ld, t, *i, "%s needs addresses, domains, /regex/, @lists or a condition",
			      t->v[0].text);
	r->who.any = *i == 1;
	return rc;
}

/* args_account - [associate] account "NAME" = DOMAIN... | account auto */
static int args_account(struct loader *ld, const struct toks *t, size_t *i, struct rule *r)
{
	int rc = 0;

	if (is_word(t, 1, "auto") && t->n == 2) {
		r->verb = V_ACCOUNT_AUTO;
		*i = 2;
		return 0;
	}
	if (t->n < 4 || t->v[1].kind == TOK_REGEX || !is_word(t, 2, "="))
		return err_at(ld, t, t->n < 2 ? 1 : 2,
			      "expected: account \"Name\" = domain... (or: account auto)");
	r->name = strdup(t->v[1].text);
	for (*i = 3; *i < t->n && !is_word(t, *i, "if"); (*i)++) {
		const struct tok *tk = &t->v[*i];
		const char *d = tk->text[0] == '@' ? tk->text + 1 : tk->text;

		if (tk->kind == TOK_REGEX || strchr(d, '@') || !strchr(d, '.')) {
			rc = err_at(ld, t, *i, "account maps domains (acme.com), not '%s'", tk->text);
			continue;
		}
		if (!r->key)
			r->key = lower_dup(d);
		if (matcher_add_tok(ld, &r->who, tk, ld->line, CTX_ADDR) < 0)
			rc = -1;
	}
	if (*i < t->n)
		return err_at(ld, t, *i, "account mappings take no condition");
	return rc;
}

/* args_deal - [associate] deal subject /RE/ | deal header NAME [/RE/] | deal single-open */
static int args_deal(struct loader *ld, const struct toks *t, size_t *i, struct rule *r)
{
	if (is_word(t, 1, "single-open")) {
		r->verb = V_DEAL_SINGLE_OPEN;
		*i = 2;
		return 0;
	}
	if (is_word(t, 1, "subject")) {
		r->verb = V_DEAL_SUBJECT;
		if (t->n < 3 || t->v[2].kind != TOK_REGEX)
			return err_at(ld, t, 2, "deal subject needs a /regex/ (its first group is the key)");
		r->re = regex_compile(ld, t->v[2].text, t->v[2].flags, ld->line, t->v[2].col);
		*i = 3;
		return r->re ? 0 : -1;
	}
	if (is_word(t, 1, "header")) {
		r->verb = V_DEAL_HEADER;
		if (t->n < 3 || t->v[2].kind != TOK_WORD || is_word(t, 2, "if"))
			return err_at(ld, t, 2, "deal header needs a field name (deal header X-Deal-Id)");
		r->name = strdup(t->v[2].text);
		*i = 3;
		if (*i < t->n && t->v[*i].kind == TOK_REGEX) {
			r->re = regex_compile(ld, t->v[3].text, t->v[3].flags, ld->line, t->v[3].col);
			(*i)++;
			return r->re ? 0 : -1;
		}
		return 0;
	}
	return err_at(ld, t, 1, "expected: deal subject /RE/, deal header NAME [/RE/] or deal single-open");
}

/* args_vis - [visibility] private ["reason"] | participants LEVEL | team NAME [LEVEL] | workspace */
static int args_vis(struct loader *ld, const struct toks *t, size_t *i, struct rule *r)
{
	int lv;

	if (r->verb == V_VIS_PRIVATE)
		return take_reason(t, i, r);
	if (r->verb == V_VIS_WORKSPACE) {
		r->level = RULES_SEE_EVERYTHING;
		if (is_word(t, *i, "everything"))
			(*i)++;
		return 0;
	}
	if (r->verb == V_VIS_TEAM) {
		if (*i >= t->n || !rules_team_find(ld->r, t->v[*i].text))
			return err_at(ld, t, *i, "unknown team '%s' (define it with: team NAME = ...)",
				      *i < t->n ? t->v[*i].text : "");
		r->name = strdup(t->v[(*i)++].text);
	}
	lv = level_of(t, *i);
	if (lv < 0 && (r->verb == V_VIS_PARTICIPANTS || (*i < t->n && !is_word(t, *i, "if"))))
		return err_at(ld, t, *i, "expected what others see: nothing, metadata, subject or everything");
	r->level = lv < 0 ? RULES_SEE_NOTHING : (enum rules_level)lv;
	*i += lv >= 0;
	return take_reason(t, i, r);
}

/* the verbs of each section and how their arguments are read */
static const struct {
	enum section sec;
	const char *word;
	enum verb verb;
	int (*args)(struct loader *, const struct toks *, size_t *, struct rule *);
	int conds;               /* may take "if ..." */
} verbs[] = {
	{ SEC_LOG, "log", V_LOG, args_log, 1 },
	{ SEC_LOG, "skip", V_SKIP, args_log, 1 },
	{ SEC_LOG, "private", V_PRIVATE, args_log, 1 },
	{ SEC_CAPTURE, "never", V_NEVER, args_who, 1 },
	{ SEC_CAPTURE, "always", V_ALWAYS, args_who, 1 },
	{ SEC_ASSOCIATE, "account", V_ACCOUNT, args_account, 0 },
	{ SEC_ASSOCIATE, "deal", V_DEAL_SUBJECT, args_deal, 1 },
	{ SEC_ASSOCIATE, "contacts", V_CONTACTS, args_log, 0 },
	{ SEC_VISIBILITY, "private", V_VIS_PRIVATE, args_vis, 1 },
	{ SEC_VISIBILITY, "participants", V_VIS_PARTICIPANTS, args_vis, 1 },
	{ SEC_VISIBILITY, "team", V_VIS_TEAM, args_vis, 1 },
	{ SEC_VISIBILITY, "workspace", V_VIS_WORKSPACE, args_vis, 1 },
};

/* verb_words - "log, skip, private" of section S, for an error message */
static const char *verb_words(enum section s, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
		if (verbs[k].sec == s)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? ", " : "",
				 verbs[k].word);
	if (s == SEC_CAPTURE)
		snprintf(buf + strlen(buf), len - strlen(buf), ", policy, require-auth");
	return buf;
}

/* setting - [capture] "policy none|sent|sent-and-received" and "require-auth dmarc|aligned|off" */
static int setting(struct loader *ld, const struct toks *t)
{
	static const char *const pol[] = { "none", "sent", "sent-and-received" };
	static const char *const req[] = { "off", "dmarc", "aligned" };
	int policy = is_word(t, 0, "policy");
	const char *const *names = policy ? pol : req;
	struct rules_prov **prov = policy ? &ld->r->policy_prov : &ld->r->require_prov;
	int k;

	for (k = 0; k < 3 && !is_word(t, 1, names[k]); k++)
		;
	if (k == 3 || t->n != 2)
		return err_at(ld, t, k == 3 ? 1 : 2, policy ? "expected: policy none, sent or sent-and-received"
						    : "expected: require-auth dmarc, aligned or off");
	if (*prov && ld->builtin)
		return 0;               /* the file said it already */
	if (*prov)
		*(policy ? &ld->r->policy_earlier : &ld->r->require_earlier) = (*prov)->line;
	if (!*prov) {
		struct rules_prov *p = calloc(1, sizeof *p);

		if (!p || !rules_keep(ld->r, (char *)p))
			return -1;
		*prov = p;
	}
	if (prov_fill(ld, t, *prov) < 0)
		return -1;
	if (policy)
		ld->r->policy = (enum rules_capture_policy)k;
	else
		ld->r->require = (enum require_auth)k;
	return 0;
}

/* rule_line - a rule in the current section */
static int rule_line(struct loader *ld, const struct toks *t)
{
	char buf[160];
	struct rule *r;
	size_t k, i = 1;

	if (ld->sec == SEC_NONE)
		return err_at(ld, t, 0, "'%s' outside a section: start one with [log], [capture],"
			      " [associate] or [visibility]", t->v[0].text);
	if (ld->sec == SEC_CAPTURE && (is_word(t, 0, "policy") || is_word(t, 0, "require-auth")))
		return setting(ld, t);
	for (k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
		if (verbs[k].sec == ld->sec && is_word(t, 0, verbs[k].word))
			break;
	if (k == sizeof verbs / sizeof verbs[0]) {
		diag_add(ld->d, ld->file, ld->line, t->v[0].col, "unknown rule '%s' in [%s]: expected %s",
			 t->v[0].text, section_names[ld->sec], verb_words(ld->sec, buf, sizeof buf));
		return -1;
	}
	r = rule_new(ld, t, verbs[k].verb);
	if (!r)
		return err_at(ld, t, 0, "out of memory");
	if (verbs[k].args(ld, t, &i, r) < 0 ||
	    (!verbs[k].conds && i < t->n && err_at(ld, t, i, "unexpected '%s'", t->v[i].text) < 0) ||
	    parse_conds(ld, t, i, r) < 0 || rule_add(ld, r) < 0) {
		rule_free(r);
		return -1;
	}
	return 0;
}

/* parse_line - one tokenised line */
static int parse_line(struct loader *ld, const struct toks *t)
{
	if (t->n == 0)
		return 0;
	if (t->v[0].kind == TOK_WORD && t->v[0].text[0] == '[')
		return section_line(ld, t);
	if (is_word(t, 0, "list"))
		return def_list(ld, t);
	if (is_word(t, 0, "team") && is_word(t, 2, "="))
		return def_team(ld, t);
	if (is_word(t, 0, "trust"))
		return def_trust(ld, t);
	return rule_line(ld, t);
}

/* rules_parse_text - parse TEXT (NUL-terminated, modified in place) line by line */
int rules_parse_text(struct loader *ld, const char *text)
{
	char *copy = strdup(text), *line, *next;
	struct toks t;
	int rc = 0;

	if (!copy)
		return -1;
	ld->sec = SEC_NONE;
	ld->line = 0;
	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		ld->line++;
		if (lex_line(ld->file, ld->line, line, &t, ld->d) < 0 || parse_line(ld, &t) < 0)
			rc = -1;
		toks_free(&t);
	}
	free(copy);
	return rc;
}

/* rules_free - free everything of R */
static void rules_free(struct rules *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		rule_free(r->v[i]);
	free(r->v);
	for (i = 0; i < SEC_N; i++)
		free(r->sec[i]);
	for (i = 0; i < r->n_lists; i++) {
		free(r->lists[i]->name);
		free(r->lists[i]->v);
		free(r->lists[i]);
	}
	free(r->lists);
	for (i = 0; i < r->n_teams; i++) {
		free(r->teams[i]->name);
		free((void *)r->teams[i]->pub.members);
		matcher_free(&r->teams[i]->m);
		free(r->teams[i]);
	}
	free(r->teams);
	free(r->pub_teams);
	for (i = 0; i < r->n_trust; i++)
		free(r->trust[i]);
	free(r->trust);
	for (i = 0; i < r->n_codes; i++)
		pcre2_code_free(r->codes[i]);
	free(r->codes);
	for (i = 0; i < r->n_strings; i++)
		free(r->strings[i]);
	free(r->strings);
	free(r->path);
	free(r);
}

/* dir_of - the folder of PATH (new string), NULL for a bare name */
static char *dir_of(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : NULL;
}

/* finish - the built-in rules after the file's, public team table; 0 or -1 */
static int finish(struct loader *ld)
{
	struct rules *r = ld->r;

	ld->builtin = 1;
	ld->file = RULES_BUILTIN_FILE;
	if (rules_parse_text(ld, rules_builtin_text()) < 0)
		return -1;
	r->pub_teams = calloc(r->n_teams ? r->n_teams : 1, sizeof *r->pub_teams);
	if (!r->pub_teams)
		return -1;
	for (size_t i = 0; i < r->n_teams; i++)
		r->pub_teams[i] = r->teams[i]->pub;
	return 0;
}

/* text_sha256 - 64 hex digits of SHA-256 of TEXT into OUT (65 bytes); "" without memory */
static void text_sha256(const char *text, char *out)
{
	gchar *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);

	snprintf(out, 65, "%s", hex ? hex : "");
	g_free(hex);
}

/* load - parse TEXT named NAME (from file PATH or NULL) into *out; see rules.h */
static int load(const char *name, const char *path, const char *text, struct rules **out,
		char *err, size_t errlen)
{
	struct diag d = { 0 };
	struct rules *r = calloc(1, sizeof *r);
	char *dir = dir_of(path);
	struct loader ld = { .r = r, .d = &d, .dir = dir, .sec = SEC_NONE };
	int rc = -1;

	*out = NULL;
	if (!r)
		goto out;
	r->refs = 1;
	r->policy = RULES_POLICY_SENT;
	r->path = path ? strdup(path) : NULL;
	ld.file = rules_keep(r, strdup(name));
	if (!ld.file || (path && !r->path))
		diag_add(&d, name, 0, 0, "out of memory");
	else if (text)
		rules_parse_text(&ld, text);
	if (r)
		text_sha256(text ? text : rules_builtin_text(), r->sha256);
	if (d.n == 0 && finish(&ld) < 0 && d.n == 0)
		diag_add(&d, RULES_BUILTIN_FILE, 0, 0, "out of memory");
	if (d.n == 0) {
		*out = r;
		r = NULL;
		rc = 0;
	}
out:
	if (rc < 0 && err && errlen) {
		if (!r)
			snprintf(err, errlen, "%s: out of memory", name);
		else if (d.n > RULES_MAX_ERRORS)
			snprintf(err, errlen, "%s%s: ... %u errors in all\n", d.buf ? d.buf : "", name,
				 d.n);
		else
			snprintf(err, errlen, "%s", d.buf ? d.buf : "");
		if (strlen(err) && err[strlen(err) - 1] == '\n')
			err[strlen(err) - 1] = '\0';
	}
	if (r)
		rules_free(r);
	free(d.buf);
	free(dir);
	return rc;
}

/* rules_load - see rules.h */
int rules_load(const char *path, struct rules **out, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	if (!path)
		return load(RULES_BUILTIN_FILE, NULL, NULL, out, err, errlen);
	text = read_file(path, RULES_MAX_FILE, &len);
	if (!text) {
		*out = NULL;
		snprintf(err, errlen, "%s: %s", path, read_file_error(errno));
		return -1;
	}
	if (memchr(text, '\0', len)) {
		free(text);
		*out = NULL;
		snprintf(err, errlen, "%s:1:1: not a text file (NUL byte)", path);
		return -1;
	}
	rc = load(path, path, text, out, err, errlen);
	free(text);
	return rc;
}

/* rules_load_text - see rules.h */
int rules_load_text(const char *name, const char *text, struct rules **out, char *err,
		    size_t errlen)
{
	return load(name, NULL, text, out, err, errlen);
}

/* rules_ref - see rules.h */
struct rules *rules_ref(struct rules *r)
{
	if (r)
		__atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
	return r;
}

/* rules_unref - see rules.h */
void rules_unref(struct rules *r)
{
	if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0)
		rules_free(r);
}

/* rules_path - see rules.h */
const char *rules_path(const struct rules *r)
{
	return r->path;
}

/* rules_sha256 - see rules.h */
const char *rules_sha256(const struct rules *r)
{
	return r->sha256;
}

/* rules_count - see rules.h */
size_t rules_count(const struct rules *r)
{
	return r->n_file;
}

/* rules_policy - see rules.h */
enum rules_capture_policy rules_policy(const struct rules *r)
{
	return r->policy;
}

/* rules_teams - see rules.h */
const struct rules_team *rules_teams(const struct rules *r, size_t *n)
{
	*n = r->n_teams;
	return r->pub_teams;
}
