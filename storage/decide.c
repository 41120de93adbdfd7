/*
 * decide.c - applying one message's decisions: the rule rows they point
 * to, the message's own log and visibility, skipped metadata rows, deals,
 * thread visibility and the reason a thread stays unassigned
 *
 * Provenance: every decision column holds the id of a rules row (file,
 * line, text, hash of the text), inserted on first use; an edited rule is
 * a new row, so old decisions keep naming the text that made them.
 *
 * A thread's visibility is the most restrictive of its messages': the
 * meet of theirs, who is inside all of them (participants < one team <
 * workspace; two teams meet in the participants) and the least seen from
 * outside (nothing < metadata < subject < everything).  A visibility only
 * ever narrows, so no message (an outsider's reply, a merge) can widen who
 * sees the others; store_thread_narrow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* store_rule_cache_clear - forget the rules rows looked up (their transaction ended) */
void store_rule_cache_clear(struct store *st)
{
	for (size_t i = 0; i < st->n_rcache; i++) {
		free(st->rcache[i].file);
		free(st->rcache[i].hash);
	}
	free(st->rcache);
	st->rcache = NULL;
	st->n_rcache = 0;
}

/* cache_find - the cached id of R, 0 when not cached */
static int64_t cache_find(const struct store *st, const struct store_rule *r)
{
	for (size_t i = 0; i < st->n_rcache; i++)
		if (st->rcache[i].line == r->line && strcmp(st->rcache[i].hash, r->hash) == 0 &&
		    strcmp(st->rcache[i].file, r->file) == 0)
			return st->rcache[i].id;
	return 0;
}

/* cache_add - remember R's id (best effort) */
static void cache_add(struct store *st, const struct store_rule *r, int64_t id)
{
	struct store_rule_cached *nv;

	if (st->n_rcache >= STORE_RULE_CACHE)
		return;
	nv = realloc(st->rcache, (st->n_rcache + 1) * sizeof *nv);
	if (!nv)
		return;
	st->rcache = nv;
	nv[st->n_rcache] = (struct store_rule_cached){ strdup(r->file), strdup(r->hash), r->line, id };
	if (nv[st->n_rcache].file && nv[st->n_rcache].hash)
		st->n_rcache++;
	else {
		free(nv[st->n_rcache].file);
		free(nv[st->n_rcache].hash);
	}
}

/*
 * store_rule_id - the rules row of R, inserted when new.  Returns
 * STORE_OK with *id, or an error class.
 */
int store_rule_id(struct store *st, const struct store_rule *r, int64_t *id)
{
	sqlite3_stmt *s;
	int rc;

	*id = cache_find(st, r);
	if (*id)
		return STORE_OK;
	s = store_stmt(st, S_RULE_INSERT);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, r->file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->line);
	sqlite3_bind_text(s, 3, r->hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->text ? r->text : "", -1, SQLITE_STATIC);
	rc = store_step_done(st, s, "recording a rule");
	if (rc != STORE_OK)
		return rc;
	s = store_stmt(st, S_RULE_GET);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, r->file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->line);
	sqlite3_bind_text(s, 3, r->hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return store_sqlerr(st, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "looking up a rule");
	cache_add(st, r, *id);
	return STORE_OK;
}

/* bind_rule_at - bind the rules row of R (or NULL) at I */
static int bind_rule_at(struct store *st, sqlite3_stmt *s, int i, const struct store_rule *r)
{
	int64_t id = 0;
	int rc = r ? store_rule_id(st, r, &id) : STORE_OK;

	if (rc == STORE_OK && id)
		sqlite3_bind_int64(s, i, id);
	return rc;
}

/* bind_opt - bind text V, NULL when V is NULL */
static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

/* direction_word - the stored word of a direction */
static const char *direction_word(enum store_direction d)
{
	return d == STORE_OUTBOUND ? "outbound" : d == STORE_INTERNAL ? "internal" : "inbound";
}

/*
 * store_skip_insert - the metadata row of a skipped message: id, date,
 * direction, size, flags, why and by which rule; no subject, body, raw
 * source or participants.  Returns STORE_OK with *mid, or a class.
 */
int store_skip_insert(struct store *st, const struct store_item *it, int64_t *mid)
{
	const struct mail_record *rec = it->rec;
	sqlite3_stmt *s = store_stmt(st, S_MSG_SKIP_INSERT);
	char name[512];
	int rc;

	if (!s)
		return store_stmt_err(st);
	store_rule_name(it->dec->log_rule, name, sizeof name);
	sqlite3_bind_text(s, 1, rec->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, rec->date);
	sqlite3_bind_text(s, 3, direction_word(it->direction), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)rec->size);
	sqlite3_bind_int64(s, 5, rec->flags);
	bind_opt(s, 6, it->dec->log_reason);
	rc = bind_rule_at(st, s, 7, it->dec->log_rule);
	sqlite3_bind_text(s, 8, name, -1, SQLITE_TRANSIENT);
	if (rc == STORE_OK)
		rc = store_step_done(st, s, "inserting a skipped message");
	*mid = sqlite3_last_insert_rowid(st->db);
	return rc;
}

/* untrusted - 1 when the decision trusts none of its participants (spoofed inbound) */
static int untrusted(const struct store_decision *d)
{
	for (size_t i = 0; i < d->n_people; i++)
		if (!d->people[i].trusted)
			return 1;
	return 0;
}

/*
 * store_message_decision - the log and visibility decisions on the
 * messages row MID of a logged message.  Returns STORE_OK or a class.
 */
int store_message_decision(struct store *st, const struct store_item *it, int64_t mid)
{
	const struct store_decision *d = it->dec;
	sqlite3_stmt *s;
	char name[512];
	int rc;

	if (!d)
		return STORE_OK;
	s = store_stmt(st, S_MSG_DECISION);
	if (!s)
		return store_stmt_err(st);
	store_rule_name(d->log_rule, name, sizeof name);
	sqlite3_bind_int64(s, 1, mid);
	sqlite3_bind_text(s, 2, d->skip ? "skipped" : d->marked_private ? "private" : "logged", -1,
			  SQLITE_STATIC);
	bind_opt(s, 3, d->log_reason);
	rc = bind_rule_at(st, s, 4, d->log_rule);
	sqlite3_bind_text(s, 5, name, -1, SQLITE_TRANSIENT);
	bind_opt(s, 6, d->inside ? d->inside : "workspace");
	bind_opt(s, 7, d->outside ? d->outside : "everything");
	bind_opt(s, 8, d->visibility_reason);
	if (rc == STORE_OK)
		rc = bind_rule_at(st, s, 9, d->visibility_rule);
	sqlite3_bind_int(s, 10, untrusted(d));
	return rc == STORE_OK ? store_step_done(st, s, "recording a message's decisions") : rc;
}

/* rank_outside - nothing 0, metadata 1, subject 2, everything 3 (NULL: everything) */
static int rank_outside(const char *v)
{
	static const char *const names[] = { "nothing", "metadata", "subject" };

	for (int i = 0; v && i < 3; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return 3;
}

/*
 * inside_meet - who is inside both A and B (NULL: the workspace): the
 * workspace and X give X; one team twice gives that team; two different
 * teams, or participants and anything, give the participants.  Returns A,
 * B or "participants" (static); never a wider set than either.
 */
static const char *inside_meet(const char *a, const char *b)
{
	if (!a || strcmp(a, "workspace") == 0)
		return b ? b : "workspace";
	if (!b || strcmp(b, "workspace") == 0 || strcmp(a, b) == 0)
		return a;
	return "participants";
}

/*
 * store_thread_narrow - make thread TID at least as restrictive as the
 * visibility INSIDE/OUTSIDE (set by REASON and rules row RULE_ID, 0: none):
 * the thread keeps the meet of the two, who is inside both and the less
 * seen from outside, so no message can widen who sees the others.  A
 * thread no rule has decided yet (vis_rule NULL) takes the new one as it
 * is.  When the result differs from what the thread had, the reason and
 * rule become REASON and RULE_ID.  Returns STORE_OK or an error class.
 */
int store_thread_narrow(struct store *st, int64_t tid, const char *inside, const char *outside,
			const char *reason, int64_t rule_id)
{
	sqlite3_stmt *s = store_stmt(st, S_THREAD_VIS_GET);
	char in[160] = "workspace", out[16] = "everything";
	const char *new_in, *new_out;
	int rc, decided = 0;

	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, tid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *ci = (const char *)sqlite3_column_text(s, 0);
		const char *co = (const char *)sqlite3_column_text(s, 1);

		snprintf(in, sizeof in, "%s", ci ? ci : "workspace");
		snprintf(out, sizeof out, "%s", co ? co : "everything");
		decided = sqlite3_column_int(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? STORE_OK : store_sqlerr(st, rc, "reading a thread's visibility");
	new_in = decided ? inside_meet(in, inside) : inside ? inside : "workspace";
	new_out = !decided || rank_outside(outside) < rank_outside(out)
		  ? (outside ? outside : "everything") : out;
	if (decided && strcmp(new_in, in) == 0 && strcmp(new_out, out) == 0)
		return STORE_OK;
	s = store_stmt(st, S_THREAD_VIS_SET);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, tid);
	sqlite3_bind_text(s, 2, new_in, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, new_out, -1, SQLITE_TRANSIENT);
	bind_opt(s, 4, reason);
	if (rule_id > 0)
		sqlite3_bind_int64(s, 5, rule_id);
	return store_step_done(st, s, "setting a thread's visibility");
}

/* thread_visibility - make thread TID at least as restrictive as decision D */
static int thread_visibility(struct store *st, const struct store_decision *d, int64_t tid)
{
	int64_t rule_id = 0;
	int rc = d->visibility_rule ? store_rule_id(st, d->visibility_rule, &rule_id) : STORE_OK;

	return rc == STORE_OK ? store_thread_narrow(st, tid, d->inside, d->outside,
						    d->visibility_reason, rule_id) : rc;
}

/* deal_ensure - the id of deal KEY, created open (by RULE) when new */
static int deal_ensure(struct store *st, const char *key, const struct store_rule *rule, int64_t *id)
{
	sqlite3_stmt *s = store_stmt(st, S_DEAL_INSERT);
	int rc;

	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = bind_rule_at(st, s, 3, rule);
	if (rc == STORE_OK)
		rc = store_step_done(st, s, "creating a deal");
	if (rc != STORE_OK)
		return rc;
	s = store_stmt(st, S_DEAL_GET);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : store_sqlerr(st, rc, "looking up a deal");
}

/* open_deals - up to 2 open deals of contact ADDR into ids; *n gets how many there are */
static int open_deals(struct store *st, const char *addr, int64_t ids[2], size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_DEALS_OPEN_OF);
	int rc;

	*n = 0;
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n < 2)
			ids[*n] = sqlite3_column_int64(s, 0);
		(*n)++;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlerr(st, rc, "looking up open deals");
}

/*
 * deals_single_open - "deal single-open": link TID to the one open deal of
 * each trusted external participant; *why gets the reason when one has
 * several ("two open deals for bob@acme.com"), WHY holding LEN bytes
 */
static int deals_single_open(struct store *st, const struct store_decision *d, int64_t tid,
			     char *why, size_t len)
{
	int64_t ids[2];
	size_t n, i;
	int rc = STORE_OK;

	for (i = 0; rc == STORE_OK && i < d->n_people; i++) {
		const struct store_person *p = &d->people[i];

		if (!p->trusted)
			continue;
		rc = open_deals(st, p->addr, ids, &n);
		if (rc == STORE_OK && n == 1)
			rc = store_link(st, S_LINK_DEAL, tid, ids[0], d->single_open);
		else if (rc == STORE_OK && n > 1 && !why[0])
			snprintf(why, len, "%s open deals for %s", n == 2 ? "two" : "several", p->addr);
	}
	return rc;
}

/* deals_apply - the deals the rules found (by key) and "single-open" */
static int deals_apply(struct store *st, const struct store_decision *d, int64_t tid,
		       char *why, size_t len)
{
	int64_t id = 0;
	int rc = STORE_OK;

	for (size_t i = 0; rc == STORE_OK && i < d->n_deals; i++) {
		rc = deal_ensure(st, d->deals[i].key, d->deals[i].rule, &id);
		if (rc == STORE_OK)
			rc = store_link(st, S_LINK_DEAL, tid, id, d->deals[i].rule);
	}
	if (rc == STORE_OK && d->single_open)
		rc = deals_single_open(st, d, tid, why, len);
	return rc;
}

/*
 * unassigned - record why thread TID stays unassigned: nothing linked
 * (the deal's reason, the rules' reason, or "no external participant is
 * a contact"), or linked but its deal ambiguous; NULL once all is well
 */
static int unassigned(struct store *st, const struct store_decision *d, int64_t tid,
		      const char *deal_why)
{
	sqlite3_stmt *s = store_stmt(st, S_THREAD_LINKS);
	int64_t links = 0, deals = 0;
	const char *why = NULL;
	int rc;

	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, tid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		links = sqlite3_column_int64(s, 0);
		deals = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return store_sqlerr(st, rc, "counting a thread's links");
	if (!links)
		why = *deal_why ? deal_why : d->unassigned ? d->unassigned
							  : "no external participant is a contact";
	else if (!deals && *deal_why)
		why = deal_why;
	s = store_stmt(st, S_THREAD_UNASSIGNED);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, tid);
	bind_opt(s, 2, why);
	return store_step_done(st, s, "recording why a thread is unassigned");
}

/*
 * store_decision_apply - the decisions of a logged item stored as message
 * MID in thread TID: people and their links, deals, thread visibility, the
 * unassigned reason.  An item without decisions links nothing.  Returns
 * STORE_OK or an error class.
 */
int store_decision_apply(struct store *st, const struct store_item *it, int64_t mid, int64_t tid)
{
	const struct store_decision *d = it->dec;
	char why[600] = "";
	int rc;

	(void)mid;
	if (!d)
		return STORE_OK;
	rc = store_contacts_apply(st, it, tid);
	if (rc == STORE_OK)
		rc = deals_apply(st, d, tid, why, sizeof why);
	if (rc == STORE_OK)
		rc = thread_visibility(st, d, tid);
	if (rc == STORE_OK)
		rc = unassigned(st, d, tid, why);
	return rc;
}
