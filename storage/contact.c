/*
 * contact.c - contacts, accounts and thread links: the default policy
 * until the rules engine lands
 *
 * External recipients (to, cc, bcc, envelope) of outbound mail become
 * contacts ("default:outbound-recipient"); inbound-only senders do not,
 * until we write to them.  Automated addresses and everyone on bulk mail,
 * bounces and auto-replies never do.  A contact's account is the
 * registrable domain of its address unless that is a free-mail domain.
 * A thread links to the contacts among its external participants and to
 * their accounts (rule "default"); a new contact links the threads it
 * already took part in.  Counts, first/last seen and the name of every
 * contact a batch touched are recomputed from participants at the end of
 * the batch, so they hold under dedupe and any import order.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define CAPTURE_RULE "default:outbound-recipient"
#define LINK_RULE "default"

/* stmt_err - the class of the connection's last error (after a failed prepare) */
static int stmt_err(struct store *st)
{
	int c = store_class_of(sqlite3_errcode(st->db));

	return c == STORE_OK ? STORE_EINVAL : c;
}

/* touch - remember that contact ID needs its counts recomputed */
static int touch(struct store *st, int64_t id)
{
	int64_t *nv;

	if (st->n_touched == st->cap_touched) {
		size_t cap = st->cap_touched ? st->cap_touched * 2 : 64;

		nv = realloc(st->touched, cap * sizeof *nv);
		if (!nv)
			return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
		st->touched = nv;
		st->cap_touched = cap;
	}
	st->touched[st->n_touched++] = id;
	return STORE_OK;
}

/* contact_get - id and account of the contact ADDR; *id 0 when none */
static int contact_get(struct store *st, const char *addr, int64_t *id, int64_t *account)
{
	sqlite3_stmt *s = store_stmt(st, S_CONTACT_GET);
	int rc;

	*id = *account = 0;
	if (!s)
		return stmt_err(st);
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

/* account_ensure - the id of the account DOMAIN, created when new */
static int account_ensure(struct store *st, const char *domain, int64_t *id)
{
	sqlite3_stmt *s = store_stmt(st, S_ACCOUNT_INSERT);
	int rc;

	*id = 0;
	if (!s)
		return stmt_err(st);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	rc = store_step_done(st, s, "creating an account");
	if (rc != STORE_OK)
		return rc;
	s = store_stmt(st, S_ACCOUNT_GET);
	if (!s)
		return stmt_err(st);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : store_sqlerr(st, rc, "looking up an account");
}

/*
 * account_of - the account of a new contact ADDR: its registrable domain,
 * none (*id 0) for free-mail or domainless addresses
 */
static int account_of(struct store *st, const char *addr, int64_t *id)
{
	const char *domain = store_domain_of(addr);
	char *reg;
	int rc = STORE_OK;

	*id = 0;
	if (!*domain)
		return STORE_OK;
	reg = mail_registrable_domain(domain);
	if (!reg)
		return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	if (*reg && !mail_is_freemail(reg))
		rc = account_ensure(st, reg, id);
	free(reg);
	return rc;
}

/* link_past - link every thread ADDR took part in to contact CID (and account AID) */
static int link_past(struct store *st, const char *addr, int64_t cid, int64_t aid)
{
	const enum stmt_id ids[2] = { S_LINK_PAST_CONTACT, S_LINK_PAST_ACCOUNT };
	const int64_t targets[2] = { cid, aid };
	sqlite3_stmt *s;
	int i, rc = STORE_OK;

	for (i = 0; i < 2 && rc == STORE_OK; i++) {
		if (!targets[i])
			continue;
		s = store_stmt(st, ids[i]);
		if (!s)
			return stmt_err(st);
		sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, targets[i]);
		sqlite3_bind_text(s, 3, LINK_RULE, -1, SQLITE_STATIC);
		rc = store_step_done(st, s, "linking threads");
	}
	return rc;
}

/* contact_capture - make ADDR a contact unless it already is one */
static int contact_capture(struct store *st, const char *addr)
{
	int64_t cid = 0, aid = 0;
	sqlite3_stmt *s;
	int rc;

	rc = contact_get(st, addr, &cid, &aid);
	if (rc != STORE_OK || cid)
		return rc;
	rc = account_of(st, addr, &aid);
	if (rc != STORE_OK)
		return rc;
	s = store_stmt(st, S_CONTACT_INSERT);
	if (!s)
		return stmt_err(st);
	sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
	if (aid)
		sqlite3_bind_int64(s, 2, aid);
	sqlite3_bind_text(s, 3, CAPTURE_RULE, -1, SQLITE_STATIC);
	rc = store_step_done(st, s, "creating a contact");
	if (rc != STORE_OK)
		return rc;
	cid = sqlite3_last_insert_rowid(st->db);
	return link_past(st, addr, cid, aid);
}

/* capturable - 1 when ADDR may become a contact under the default policy */
static int capturable(const struct store *st, const char *addr)
{
	return addr && *addr && *store_domain_of(addr) && !store_is_internal(st, addr) &&
	       !mail_addr_is_automated(addr);
}

/* capture_recipients - contacts from the external recipients of outbound mail */
static int capture_recipients(struct store *st, const struct store_item *it)
{
	const struct mail_record *rec = it->rec;
	const struct mail_addrs *lists[] = { &rec->to, &rec->cc, &rec->bcc };
	size_t l, i;
	int rc = STORE_OK;

	for (l = 0; l < 3; l++)
		for (i = 0; rc == STORE_OK && i < lists[l]->n; i++)
			if (capturable(st, lists[l]->v[i].addr))
				rc = contact_capture(st, lists[l]->v[i].addr);
	for (i = 0; rc == STORE_OK && it->env && i < it->env->n_rcpts; i++)
		if (capturable(st, it->env->rcpts[i]))
			rc = contact_capture(st, it->env->rcpts[i]);
	return rc;
}

/* link_one - link thread TID to a target with statement ID */
static int link_one(struct store *st, enum stmt_id id, int64_t tid, int64_t target)
{
	sqlite3_stmt *s = store_stmt(st, id);

	if (!s)
		return stmt_err(st);
	sqlite3_bind_int64(s, 1, tid);
	sqlite3_bind_int64(s, 2, target);
	sqlite3_bind_text(s, 3, LINK_RULE, -1, SQLITE_STATIC);
	return store_step_done(st, s, "linking a thread");
}

/* link_addr - when ADDR is a contact: link TID to it and its account, touch it */
static int link_addr(struct store *st, const char *addr, int64_t tid)
{
	int64_t cid = 0, aid = 0;
	int rc;

	if (!addr || !*addr || store_is_internal(st, addr))
		return STORE_OK;
	rc = contact_get(st, addr, &cid, &aid);
	if (rc != STORE_OK || !cid)
		return rc;
	rc = link_one(st, S_LINK_CONTACT, tid, cid);
	if (rc == STORE_OK && aid)
		rc = link_one(st, S_LINK_ACCOUNT, tid, aid);
	if (rc == STORE_OK)
		rc = touch(st, cid);
	return rc;
}

/*
 * store_contacts_apply - the default contact policy for one stored item
 * (new or a copy) in thread TID.  Returns STORE_OK or an error class.
 */
int store_contacts_apply(struct store *st, const struct store_item *it, int64_t tid)
{
	const struct mail_record *rec = it->rec;
	const struct mail_addrs *lists[] = { &rec->from, &rec->sender, &rec->reply_to,
					     &rec->to, &rec->cc, &rec->bcc };
	size_t l, i;
	int rc = STORE_OK;

	if (it->direction == STORE_OUTBOUND &&
	    !(rec->flags & (MAIL_BULK | MAIL_BOUNCE | MAIL_AUTOREPLY)))
		rc = capture_recipients(st, it);
	for (l = 0; l < sizeof lists / sizeof lists[0]; l++)
		for (i = 0; rc == STORE_OK && i < lists[l]->n; i++)
			rc = link_addr(st, lists[l]->v[i].addr, tid);
	for (i = 0; rc == STORE_OK && it->env && i < it->env->n_rcpts; i++)
		rc = link_addr(st, it->env->rcpts[i], tid);
	return rc;
}

/* cmp_id - qsort order of ids */
static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
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

	if (st->n_touched == 0)
		return STORE_OK;
	qsort(st->touched, st->n_touched, sizeof *st->touched, cmp_id);
	for (i = 0; rc == STORE_OK && i < st->n_touched; i++) {
		if (i > 0 && st->touched[i] == st->touched[i - 1])
			continue;
		s = store_stmt(st, S_CONTACT_RECOUNT);
		if (!s)
			return stmt_err(st);
		sqlite3_bind_int64(s, 1, st->touched[i]);
		rc = store_step_done(st, s, "counting a contact's messages");
	}
	return rc;
}
