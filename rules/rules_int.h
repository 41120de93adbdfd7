/*
 * rules_int.h - private to rules/: the compiled form of a rules file
 *
 * A file is read line by line into tokens (lex.c), definitions and rules
 * are parsed and compiled (parse.c, pattern.c), and each rule keeps its
 * conditions as small records tested by one predicate each (cond.c).
 * eval.c walks the sections.  Nothing outside rules/ includes this file.
 */
#ifndef CRM_RULES_INT_H
#define CRM_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rules.h"

#define RULES_MAX_TOKENS 4096   /* tokens on one line */

/* ---- tokens (lex.c) ---- */

enum tok_kind { TOK_WORD, TOK_QUOTED, TOK_REGEX };

struct tok {
	enum tok_kind kind;
	char *text;              /* word, unescaped string, or the regex body */
	char *flags;             /* TOK_REGEX: the letters after the closing '/' */
	unsigned col;            /* 1-based column of the token's first byte */
};

struct toks {
	struct tok *v;
	size_t n;
	char *line;              /* the rule text: comment and outer blanks removed */
};

/* the error sink of one load: every error, "FILE:LINE:COL: message" */
struct diag {
	char *buf;
	size_t len, cap;
	unsigned n;
};

void diag_add(struct diag *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int diag_put(struct diag *d, const char *text);

int lex_line(const char *file, unsigned lineno, const char *line, struct toks *out,
	     struct diag *d);
void toks_free(struct toks *t);

/* ---- patterns and matchers (pattern.c) ---- */

/* one pattern as written: a /regex/, a bare word or a "quoted literal";
 * its text and regex belong to the rules (rules_keep, rules_keep_re) */
struct pat {
	enum tok_kind kind;
	const char *text;        /* as written */
	pcre2_code *re;          /* TOK_REGEX */
	const char *file;        /* where it was written, for errors */
	unsigned line, col;
};

/* a named list (list NAME = ..., a @file, or a team's members) */
struct plist {
	char *name;
	struct pat *v;
	size_t n;
};

/* a set of strings, open addressing; the strings are borrowed */
struct strset {
	const char **v;
	size_t cap, n;
};

/* what a test compares values with; every part is borrowed from the rules */
struct matcher {
	int any;                 /* no pattern given: anything matches */
	int automated;           /* @automated: mail_addr_is_automated() */
	struct strset addrs;     /* exact addresses */
	struct strset domains;   /* domains, each with its subdomains */
	pcre2_code **re;
	size_t n_re;
	const char **lits;       /* lower-case substrings (text tests) */
	size_t n_lits;
};

enum match_ctx { CTX_ADDR, CTX_TEXT };

struct loader;

int pat_compile(struct loader *ld, const struct tok *t, unsigned line, struct pat *p);
int matcher_add_tok(struct loader *ld, struct matcher *m, const struct tok *t, unsigned line,
		    enum match_ctx ctx);
void matcher_free(struct matcher *m);
int matcher_addr(const struct matcher *m, const char *addr, pcre2_match_data *md);
int matcher_text(const struct matcher *m, const char *text, pcre2_match_data *md);
int strset_has(const struct strset *s, const char *key);
int strset_add(struct strset *s, const char *key);
void strset_free(struct strset *s);
int domain_in(const struct strset *s, const char *domain);
char *lower_dup(const char *s);
pcre2_code *regex_compile(struct loader *ld, const char *body, const char *flags, unsigned line,
			  unsigned col);
int regex_match(const pcre2_code *re, const char *s, pcre2_match_data *md);

/* ---- conditions (cond.c) ---- */

enum test {
	T_INTERNAL, T_INBOUND, T_OUTBOUND, T_BOUNCE, T_AUTOREPLY, T_BULK, T_MARKED_PRIVATE,
	T_FROM, T_TO, T_CC, T_BCC, T_PARTICIPANT, T_EXTERNAL, T_MAILBOX,
	T_SUBJECT, T_HEADER, T_SIZE, T_ATTACHMENT, T_ATTACHMENT_TYPE, T_AUTH,
};

enum auth_want { AUTH_METHOD, AUTH_ALIGNED };

struct cond {
	enum test test;
	int negate;
	struct matcher m;
	char *header;            /* T_HEADER: the field name */
	char op;                 /* T_SIZE: '<', '>', 'l' (<=), 'g' (>=), '=' */
	uint64_t size;
	enum auth_want auth;     /* T_AUTH */
	char method[16], result[16];
};

/* an Authentication-Results verdict from a trusted authserv-id */
struct ar_verdict {
	char method[16];
	char result[16];
	char *header_d;          /* dkim: header.d, lower case */
	char *mailfrom;          /* spf: smtp.mailfrom domain, lower case */
};

/* the state of one evaluation */
struct ev {
	struct rules *r;
	const struct rules_input *in;
	pcre2_match_data *md;
	int marked_private;      /* [log] chose "private" */
	int delivery_only;       /* [visibility]: participants are From, To, Cc, Bcc, envelope */
	int auth_done;
	struct ar_verdict *ar;
	size_t n_ar;
};

int cond_parse(struct loader *ld, const struct toks *t, size_t *i, unsigned line,
	       struct cond *c, int section);
int cond_holds(struct ev *e, const struct cond *c);
void cond_free(struct cond *c);
int auth_aligned(struct ev *e);
int auth_method(struct ev *e, const char *method, const char *result);
void ev_free_auth(struct ev *e);
int header_each(const char *hdrs, size_t len, const char *name,
		int (*fn)(const char *value, void *arg), void *arg);

/* ---- rules ---- */

enum section { SEC_NONE = -1, SEC_LOG, SEC_CAPTURE, SEC_ASSOCIATE, SEC_VISIBILITY, SEC_N };

enum verb {
	V_LOG, V_SKIP, V_PRIVATE,                            /* [log] */
	V_NEVER, V_ALWAYS,                                   /* [capture] */
	V_ACCOUNT, V_ACCOUNT_AUTO, V_DEAL_SUBJECT, V_DEAL_HEADER, V_DEAL_SINGLE_OPEN,
	V_CONTACTS,                                          /* [associate] */
	V_VIS_PRIVATE, V_VIS_PARTICIPANTS, V_VIS_TEAM, V_VIS_WORKSPACE, /* [visibility] */
};

struct rule {
	struct rules_prov prov;
	enum section sec;
	enum verb verb;
	char *reason;            /* "quoted reason", or NULL */
	struct matcher who;      /* never/always: the participants; account: its domains */
	char *name;              /* account name, team name or header name */
	char *key;               /* account: its key (first domain) */
	pcre2_code *re;          /* deal subject/header pattern */
	enum rules_level level;  /* visibility: what outsiders see */
	struct cond *conds;
	size_t n_conds;
};

struct team {
	char *name;
	struct rules_team pub;
	struct matcher m;        /* its members, for @team:NAME */
};

enum require_auth { REQ_OFF, REQ_DMARC, REQ_ALIGNED };

struct rules {
	int refs;
	char *path;
	char sha256[65];         /* of the file's text (the built-in text: none) */
	struct rule **v;         /* every rule in file order, then the built-in ones */
	size_t n, n_file;
	struct rule **sec[SEC_N];
	size_t nsec[SEC_N];
	struct plist **lists;    /* named lists and loaded @files */
	size_t n_lists;
	struct team **teams;
	size_t n_teams;
	struct rules_team *pub_teams;
	char **trust;            /* trusted authserv-ids, lower case */
	size_t n_trust;
	enum rules_capture_policy policy;
	struct rules_prov *policy_prov;
	unsigned policy_earlier;  /* line of a policy the last one overrides, or 0 */
	enum require_auth require;
	struct rules_prov *require_prov;
	unsigned require_earlier; /* the same for require-auth */
	char **strings;          /* file names and texts owned by the rules */
	size_t n_strings;
	pcre2_code **codes;      /* every compiled regex, owned by the rules */
	size_t n_codes;
};

/* the state of one load */
struct loader {
	struct rules *r;
	struct diag *d;
	const char *file;        /* owned by r->strings */
	const char *dir;         /* directory of the rules file, for relative @files */
	unsigned line;
	enum section sec;
	int builtin;
};

const char *rules_keep(struct rules *r, char *s);
pcre2_code *rules_keep_re(struct rules *r, pcre2_code *re);
struct plist *rules_list_find(struct rules *r, const char *name);
struct plist *rules_file_list(struct loader *ld, const char *path, unsigned line, unsigned col);
struct team *rules_team_find(struct rules *r, const char *name);
int rules_parse_text(struct loader *ld, const char *text);

#endif
