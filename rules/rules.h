/*
 * rules.h - the rules engine: an ops-edited rules file, compiled, and the
 * decisions it makes for one message, each with the rule that made it
 *
 * rules_load() parses and compiles a rules file (crmilter-rules(5)): list,
 * team and trust definitions, then four sections, [log], [capture],
 * [associate] and [visibility], one rule per line, first match wins inside
 * a section.  Patterns are pcre2 (JIT-compiled), literals or @file lists.
 * Every error is reported as "FILE:LINE:COL: message", all of them, not
 * only the first.  A built-in rule set (rules_builtin_text()) closes every
 * section, so an empty file behaves like the built-in defaults.
 *
 * rules_eval() evaluates one parsed message (struct mail_record, its raw
 * header block, direction, envelope recipients and an "is this address
 * ours?" test) into a struct rules_decision: logged or skipped, who among
 * the external participants becomes a contact, accounts, deals, the
 * contacts to link, and visibility.  Each decision points to the rule
 * (struct rules_prov: file, line, text, hash of the text) that made it.
 *
 * A struct rules is immutable once loaded and reference counted, so a
 * reload builds a new one, validates it and swaps it while evaluations in
 * flight keep the old one (rules_ref / rules_unref).  A decision holds a
 * reference to the rules that made it.  This module never touches SQLite
 * or libmilter.
 */
#ifndef CRM_RULES_H
#define CRM_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "../mail/mail.h"

#define RULES_MAX_FILE      (4u * 1024 * 1024)  /* bytes of a rules or list file */
#define RULES_MAX_ERRORS    100                  /* errors kept per load */
#define RULES_BUILTIN_FILE  "built-in"           /* file name of the built-in rules */

struct rules;

/* where a decision came from: one rule line */
struct rules_prov {
	const char *file;    /* the rules file, or RULES_BUILTIN_FILE */
	unsigned line;       /* 1-based */
	const char *text;    /* the rule as written, comment and outer blanks removed */
	const char *hash;    /* 16 hex digits of FNV-1a 64 over text: detects an edited rule */
};

enum rules_direction { RULES_INBOUND, RULES_OUTBOUND, RULES_INTERNAL };

enum rules_log { RULES_LOG, RULES_SKIP, RULES_PRIVATE };

/* who is inside a thread */
enum rules_inside { RULES_INSIDE_PARTICIPANTS, RULES_INSIDE_TEAM, RULES_INSIDE_WORKSPACE };

/* what everyone else sees */
enum rules_level { RULES_SEE_NOTHING, RULES_SEE_METADATA, RULES_SEE_SUBJECT, RULES_SEE_EVERYTHING };

enum rules_capture_policy { RULES_POLICY_NONE, RULES_POLICY_SENT, RULES_POLICY_SENT_RECEIVED };

/* the [capture] decision and the account of one external participant */
struct rules_person {
	const char *addr;                     /* normalised; points into the input */
	int capture;                          /* 1: becomes (or stays) a contact */
	int trusted;                          /* 0: unauthenticated inbound: never created or updated */
	const char *why;                      /* one line: why captured or not */
	const struct rules_prov *capture_rule;
	char *account;                        /* account key (a domain), NULL: none */
	const char *account_name;             /* mapped name, NULL: the domain */
	const struct rules_prov *account_rule;
};

/* a deal the thread belongs to, by key */
struct rules_deal {
	char *key;
	const struct rules_prov *rule;
};

struct rules_decision {
	struct rules *rules;                  /* reference held by the decision */
	enum rules_direction direction;
	enum rules_log log;
	const char *log_reason;
	const struct rules_prov *log_rule;
	struct rules_person *people;          /* the external participants, each once */
	size_t n_people;
	struct rules_deal *deals;
	size_t n_deals;
	const struct rules_prov *single_open; /* non-NULL: link the contact's one open deal */
	const struct rules_prov *contacts_rule; /* links the thread to its contacts */
	const char *unassigned;               /* when nothing may be linked: why */
	enum rules_inside inside;
	const char *team;                     /* RULES_INSIDE_TEAM: the team's name */
	enum rules_level outside;
	const char *visibility_reason;
	const struct rules_prov *visibility_rule;
};

/* one message to evaluate; everything is borrowed for the call */
struct rules_input {
	const struct mail_record *rec;
	const char *headers;                  /* raw header block for "header" tests, or NULL */
	size_t headers_len;
	enum rules_direction direction;
	const char *const *rcpts;             /* envelope recipients, normalised */
	size_t n_rcpts;
	int (*is_internal)(const char *addr, void *arg);
	void *arg;
};

/* a team defined in the rules file */
struct rules_team {
	const char *name;
	const char *const *members;           /* addresses as written, lower case */
	size_t n_members;
};

/*
 * rules_load - read, parse and compile the rules file PATH (NULL: only the
 * built-in rules).  Returns 0 and *out (rules_unref() it).  On error returns
 * -1, *out is NULL and every error (at most RULES_MAX_ERRORS) is written to
 * err, one "FILE:LINE:COL: message" per line; truncated to errlen.
 */
int rules_load(const char *path, struct rules **out, char *err, size_t errlen);

/*
 * rules_load_text - the same from TEXT in memory, named NAME in errors and
 * provenance; for tests and the built-in set.
 */
int rules_load_text(const char *name, const char *text, struct rules **out, char *err,
		    size_t errlen);

/* rules_ref - one more reference; returns R */
struct rules *rules_ref(struct rules *r);

/* rules_unref - drop a reference; the last one frees; NULL is fine */
void rules_unref(struct rules *r);

/* rules_path - the file the rules came from, or NULL for built-in only */
const char *rules_path(const struct rules *r);

/*
 * rules_sha256 - 64 hex digits of the SHA-256 of the rules file's text as it
 * was read (of rules_builtin_text() for the built-in rules), for logs and
 * crmctl status: the same digest as sha256sum(1) of the file.  Owned by R.
 */
const char *rules_sha256(const struct rules *r);

/* what rules_lint() checks the rules against; every part may be empty */
struct rules_lint_ctx {
	const char *const *own_domains;       /* Domains: near misses are typos */
	size_t n_own_domains;
	const char *const *deal_keys;         /* imported deals: what deal subject must yield */
	size_t n_deal_keys;
};

/*
 * rules_lint - what in R loads but likely means something else (a comma in
 * a list, require-auth with nothing trusted, a near miss of an own domain,
 * a setting given twice, a domain in two accounts, a rule never reached, a
 * deal pattern that can yield no imported key).  Returns the number of
 * warnings and *out (free() it; NULL when there are none): one
 * "FILE:LINE: warning: what; the fix" a line.  -1 when memory runs out.
 */
int rules_lint(const struct rules *r, const struct rules_lint_ctx *ctx, char **out);

/* rules_count - how many rules the file holds (built-in ones not counted) */
size_t rules_count(const struct rules *r);

/* rules_policy - the [capture] policy in force */
enum rules_capture_policy rules_policy(const struct rules *r);

/* rules_teams - the teams defined; *n gets their number.  Owned by R. */
const struct rules_team *rules_teams(const struct rules *r, size_t *n);

/*
 * rules_eval - evaluate one message.  Returns 0 and fills *d (free with
 * rules_decision_free()), or -1 when memory runs out (*d is then empty).
 */
int rules_eval(struct rules *r, const struct rules_input *in, struct rules_decision *d);

/* rules_decision_free - release what rules_eval() put in D; D itself stays */
void rules_decision_free(struct rules_decision *d);

/* rules_builtin_text - the built-in rules, in rules file syntax */
const char *rules_builtin_text(void);

/* names used in explain output and in the store */
const char *rules_log_name(enum rules_log l);          /* "log", "skip", "private" */
const char *rules_direction_name(enum rules_direction d); /* "inbound"... */
const char *rules_inside_name(enum rules_inside i);    /* "participants", "team", "workspace" */
const char *rules_level_name(enum rules_level l);      /* "nothing", "metadata"... */
const char *rules_policy_name(enum rules_capture_policy p); /* "none", "sent"... */

#endif
