/*
 * contact.c - contacts, accounts and thread links, as the rules decided
 *
 * The store holds no policy of its own: for each external participant the
 * item's decision says whether it becomes a contact (and by which rule),
 * its account (key, name, rule) and whether it may be touched at all (an
 * unauthenticated inbound message makes, updates and links nobody).  A
 * thread links to the contacts among its trusted external participants
 * (the [associate] "contacts" rule) and to their accounts; a new contact
 * links the threads it already took part in.  Counts, first/last seen and
 * the name of every contact a batch touched are recomputed from
 * participants at the end of the batch, so they hold under dedupe and any
 * import order.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* store_stmt_err - the class of the connection's last error (after a failed prepare) */
int store_stmt_err(struct store *st)
{
	int c = store_class_of(sqlite3_errcode(st->db));

	return c == STORE_OK ? STORE_EINVAL : c;
}

/* contact_get - id and account of the contact ADDR; *id 0 when none */
static int contact_get(struct store *st, const char *addr, int64_t *id, int64_t *account)
{
	sqlite3_stmt *s = store_stmt(st, S_CONTACT_GET);
	int rc;

	*id = *account = 0;
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*account = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlerr(st, rc, "looking up a contact");
	return STORE_OK;
}

/* bind_rule - bind the id of RULE (or NULL) at I; STORE_OK or a class */
static int bind_rule(struct store *st, sqlite3_stmt *s, int i, const struct store_rule *rule)
{
	int64_t id = 0;
	int rc = rule ? store_rule_id(st, rule, &id) : STORE_OK;

	if (rc == STORE_OK && id)
		sqlite3_bind_int64(s, i, id);
	return rc;
}

/* account_find - id and name (copied into NAME) of account KEY; *id 0 when none */
static int account_find(struct store *st, const char *key, int64_t *id, char **name)
{
	sqlite3_stmt *s = store_stmt(st, S_ACCOUNT_GET);
	int rc;

	*id = 0;
	*name = NULL;
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		if (sqlite3_column_text(s, 1))
			*name = strdup((const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK
						     : store_sqlerr(st, rc, "looking up an account");
}

/* account_rename - a mapping rule names account ID: keep its name current */
static int account_rename(struct store *st, int64_t id, const char *name,
			  const struct store_rule *rule)
{
	sqlite3_stmt *s = store_stmt(st, S_ACCOUNT_SET_NAME);
	int rc;

	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	rc = bind_rule(st, s, 3, rule);
	return rc == STORE_OK ? store_step_done(st, s, "naming an account") : rc;
}

/*
 * store_account_ensure - the id of account KEY (a domain), created when
 * new with NAME (NULL: the key) and RULE; a mapped NAME that changed is
 * updated.  Returns STORE_OK or an error class.
 */
int store_account_ensure(struct store *st, const char *key, const char *name,
			 const struct store_rule *rule, int64_t *id)
{
	sqlite3_stmt *s;
	char *have = NULL;
	int rc;

	rc = account_find(st, key, id, &have);
	if (rc == STORE_OK && *id && name && (!have || strcmp(have, name) != 0))
		rc = account_rename(st, *id, name, rule);
	free(have);
	if (rc != STORE_OK || *id)
		return rc;
	s = store_stmt(st, S_ACCOUNT_INSERT);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (name)
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	rc = bind_rule(st, s, 3, rule);
	if (rc == STORE_OK)
		rc = store_step_done(st, s, "creating an account");
	if (rc != STORE_OK)
		return rc;
	*id = sqlite3_last_insert_rowid(st->db);
	s = store_stmt(st, S_ACCOUNT_DOMAIN);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, *id);
	return store_step_done(st, s, "mapping a domain");
}

/* account_of - the account the decision gives P (0 when none), with P's domain mapped */
static int account_of(struct store *st, const struct store_person *p, int64_t *aid)
{
	const char *domain = store_domain_of(p->addr);
	sqlite3_stmt *s;
	int rc;

	*aid = 0;
	if (!p->account)
		return STORE_OK;
	rc = store_account_ensure(st, p->account, p->account_name, p->account_rule, aid);
	if (rc != STORE_OK || !*domain || strcmp(domain, p->account) == 0)
		return rc;
	s = store_stmt(st, S_ACCOUNT_DOMAIN);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, *aid);
	return store_step_done(st, s, "mapping a domain");
}

/* store_rule_name - "FILE:LINE" of a rule into BUF, "default" without one */
void store_rule_name(const struct store_rule *r, char *buf, size_t len)
{
	if (r)
		snprintf(buf, len, "%s:%u", r->file, r->line);
	else
		snprintf(buf, len, "default");
}

/*
 * store_link - link thread TID to TARGET with statement ID (S_LINK_*), made
 * by RULE.  Returns STORE_OK or an error class.
 */
int store_link(struct store *st, enum stmt_id id, int64_t tid, int64_t target,
	       const struct store_rule *rule)
{
	sqlite3_stmt *s = store_stmt(st, id);
	char name[512];
	int rc;

	if (!s)
		return store_stmt_err(st);
	store_rule_name(rule, name, sizeof name);
	sqlite3_bind_int64(s, 1, tid);
	sqlite3_bind_int64(s, 2, target);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
	rc = bind_rule(st, s, 4, rule);
	return rc == STORE_OK ? store_step_done(st, s, "linking a thread") : rc;
}

/* link_past - link every thread ADDR took part in to contact CID and account AID */
static int link_past(struct store *st, const char *addr, int64_t cid, int64_t aid,
		     const struct store_decision *d, const struct store_person *p)
{
	const enum stmt_id ids[2] = { S_LINK_PAST_CONTACT, S_LINK_PAST_ACCOUNT };
	const int64_t targets[2] = { cid, aid };
	const struct store_rule *rules[2] = { d->contacts_rule, p->account_rule };
	char name[512];
	sqlite3_stmt *s;
	int i, rc = STORE_OK;

	for (i = 0; i < 2 && rc == STORE_OK; i++) {
		if (!targets[i] || !d->contacts_rule)
			continue;
		s = store_stmt(st, ids[i]);
		if (!s)
			return store_stmt_err(st);
		store_rule_name(rules[i], name, sizeof name);
		sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, targets[i]);
		sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
		rc = bind_rule(st, s, 4, rules[i]);
		if (rc == STORE_OK)
			rc = store_step_done(st, s, "linking threads");
	}
	return rc;
}

/* contact_capture - make P a contact with account AID; *cid gets its id */
static int contact_capture(struct store *st, const struct store_decision *d,
			   const struct store_person *p, int64_t aid, int64_t *cid)
{
	sqlite3_stmt *s = store_stmt(st, S_CONTACT_INSERT);
	char name[512];
	int rc;

	if (!s)
		return store_stmt_err(st);
	store_rule_name(p->capture_rule, name, sizeof name);
	sqlite3_bind_text(s, 1, p->addr, -1, SQLITE_STATIC);
	if (aid)
		sqlite3_bind_int64(s, 2, aid);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
	rc = bind_rule(st, s, 4, p->capture_rule);
	if (rc == STORE_OK)
		rc = store_step_done(st, s, "creating a contact");
	if (rc != STORE_OK)
		return rc;
	*cid = sqlite3_last_insert_rowid(st->db);
	rc = link_past(st, p->addr, *cid, aid, d, p);
	if (rc != STORE_OK || !d->contacts_rule)
		return rc;
	/* the threads it linked are no longer unassigned (an ambiguous deal still is) */
	s = store_stmt(st, S_THREADS_ASSIGNED);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, p->addr, -1, SQLITE_STATIC);
	return store_step_done(st, s, "marking threads assigned");
}

/* contact_account - keep the contact's account what the rules say now */
static int contact_account(struct store *st, int64_t cid, int64_t have, int64_t want)
{
	sqlite3_stmt *s;

	if (have == want)
		return STORE_OK;
	s = store_stmt(st, S_CONTACT_SET_ACCOUNT);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, cid);
	if (want)
		sqlite3_bind_int64(s, 2, want);
	return store_step_done(st, s, "setting a contact's account");
}

/*
 * person_apply - one trusted external participant: capture it when the
 * rules say so, then link TID to it and its account when it is a contact
 */
static int person_apply(struct store *st, const struct store_decision *d,
			const struct store_person *p, int64_t tid)
{
	int64_t cid = 0, have = 0, aid = 0;
	int rc, gone = 0;

	if (!p->trusted || !p->addr || !*p->addr || store_is_internal(st, p->addr))
		return STORE_OK;
	rc = contact_get(st, p->addr, &cid, &have);
	if (rc != STORE_OK || (!cid && !p->capture))
		return rc;
	if (!cid && (rc = store_forgotten(st, p->addr, &gone)) != STORE_OK)
		return rc;
	if (gone)	/* erased on request (forget.c): never captured again */
		return STORE_OK;
	rc = account_of(st, p, &aid);
	if (rc == STORE_OK && !cid)
		rc = contact_capture(st, d, p, aid, &cid);
	else if (rc == STORE_OK)
		rc = contact_account(st, cid, have, aid);
	if (rc == STORE_OK && d->contacts_rule)
		rc = store_link(st, S_LINK_CONTACT, tid, cid, d->contacts_rule);
	if (rc == STORE_OK && d->contacts_rule && aid)
		rc = store_link(st, S_LINK_ACCOUNT, tid, aid, p->account_rule);
	if (rc == STORE_OK)
		rc = store_ids_add(st, &st->touched, cid);	/* its counts, at the batch's end */
	return rc;
}

/*
 * store_contacts_apply - the decisions about the people of one stored item
 * (new or a copy) in thread TID.  Returns STORE_OK or an error class.
 */
int store_contacts_apply(struct store *st, const struct store_item *it, int64_t tid)
{
	const struct store_decision *d = it->dec;
	int rc = STORE_OK;

	for (size_t i = 0; d && rc == STORE_OK && i < d->n_people; i++)
		rc = person_apply(st, d, &d->people[i], tid);
	return rc;
}

/*
 * store_contacts_recount - recompute sent/received, first/last seen and
 * name of every contact the batch touched.  Returns STORE_OK or a class.
 */
int store_contacts_recount(struct store *st)
{
	sqlite3_stmt *s;
	size_t i;
	int rc = STORE_OK;

	store_ids_sort(&st->touched);
	for (i = 0; rc == STORE_OK && i < st->touched.n; i++) {
		s = store_stmt(st, S_CONTACT_RECOUNT);
		if (!s)
			return store_stmt_err(st);
		sqlite3_bind_int64(s, 1, st->touched.v[i]);
		rc = store_step_done(st, s, "counting a contact's messages");
	}
	return rc;
}
