/*
 * test_store.c - unit tests of storage/: ingest, dedupe, threading,
 * contacts and accounts, counts, migrations, read-only and locked stores,
 * and the shapes of the JSON reads
 *
 * Each test gets a fresh SQLite file in a temporary directory.  Records
 * are built by hand (rec_new and friends) so the tests do not depend on
 * the parser.  Own domain: ourco.com.  Free-mail list: gmail.com.
 *
 * The store applies the decisions it is given; decide() below makes them
 * the way the built-in rules would (capture the external recipients of
 * outbound mail unless automated or on bulk/bounce/auto-reply mail;
 * account = registrable domain unless free-mail), so that these tests do
 * not depend on the rules engine either.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "../../storage/store.h"

#define DAY 86400
#define T0 1700000000   /* 2023-11-14T22:13:20Z */

static const char *const own[] = { "ourco.com" };

struct fx {
	char dir[64];
	char path[128];
	struct store *st;
};

/* ---- records built by hand ---- */

/* xdup - strdup that cannot return NULL in a test */
static char *xdup(const char *s)
{
	char *p = s ? strdup(s) : NULL;

	assert_true(!s || p);
	return p;
}

/* addr_add - append NAME <ADDR> to a list */
static void addr_add(struct mail_addrs *l, const char *name, const char *addr)
{
	struct mail_addr *a;

	l->v = realloc(l->v, (l->n + 1) * sizeof *l->v);
	assert_non_null(l->v);
	a = &l->v[l->n++];
	a->name = xdup(name);
	a->addr = xdup(addr);
	a->domain = strchr(a->addr, '@') ? strchr(a->addr, '@') + 1 : "";
}

/* rec_new - a record FROM -> TO with an id, a date and a subject */
static struct mail_record *rec_new(const char *msgid, int64_t date, const char *subject,
				   const char *from, const char *to)
{
	struct mail_record *r = calloc(1, sizeof *r);

	assert_non_null(r);
	r->message_id = xdup(msgid);
	r->date = date;
	r->subject = xdup(subject);
	r->body = xdup("Hello,\n\nsome text.\n");
	r->body_len = strlen(r->body);
	r->snippet = xdup("Hello, some text.");
	r->size = 200;
	r->header_len = 100;
	if (from)
		addr_add(&r->from, NULL, from);
	if (to)
		addr_add(&r->to, NULL, to);
	return r;
}

/* rec_refs - set References to the NULL-terminated list of ids */
static void rec_refs(struct mail_record *r, ...)
{
	va_list ap;
	const char *id;

	va_start(ap, r);
	while ((id = va_arg(ap, const char *)) != NULL) {
		r->references = realloc(r->references, (r->n_references + 1) * sizeof(char *));
		assert_non_null(r->references);
		r->references[r->n_references++] = xdup(id);
	}
	va_end(ap);
}

/* rec_irt - set In-Reply-To to one id */
static void rec_irt(struct mail_record *r, const char *id)
{
	free(r->in_reply_to);
	r->in_reply_to = xdup(id);
	r->n_in_reply_to = 1;
}

/* addrs_free - free a list built by addr_add */
static void addrs_free(struct mail_addrs *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].addr);
	}
	free(l->v);
}

/* rec_free - free a record built by rec_new */
static void rec_free(struct mail_record *r)
{
	size_t i;

	if (!r)
		return;
	free(r->message_id);
	free(r->in_reply_to);
	for (i = 0; i < r->n_references; i++)
		free(r->references[i]);
	free(r->references);
	free(r->subject);
	addrs_free(&r->from);
	addrs_free(&r->sender);
	addrs_free(&r->reply_to);
	addrs_free(&r->to);
	addrs_free(&r->cc);
	addrs_free(&r->bcc);
	free(r->body);
	free(r->quotes);
	free(r->snippet);
	for (i = 0; i < r->n_attachments; i++) {
		free(r->attachments[i].filename);
		free(r->attachments[i].content_type);
	}
	free(r->attachments);
	free(r->hdr.thread_index);
	free(r->hdr.list_id);
	free(r);
}

/* ---- fixture ---- */

/* open_store - open the fixture's store with options */
static int open_store(struct fx *f, int readonly, enum store_raw raw, int busy_ms,
		      struct store **out, char *err, size_t errlen)
{
	struct store_opts o = { 0 };

	o.path = f->path;
	o.readonly = readonly;
	o.raw = raw;
	o.busy_timeout_ms = busy_ms;
	o.own_domains = own;
	o.n_own_domains = 1;
	return store_open(&o, out, err, errlen);
}

/* setup - a temporary directory, a free-mail list and an open store */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char list[128], err[256];
	FILE *fp;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/crm.db", f->dir);
	snprintf(list, sizeof list, "%s/freemail.txt", f->dir);
	fp = fopen(list, "w");
	assert_non_null(fp);
	fputs("# test list\ngmail.com\n", fp);
	fclose(fp);
	assert_int_equal(mail_freemail_load(list, err, sizeof err), 0);
	assert_int_equal(open_store(f, 0, STORE_RAW_FULL, 0, &f->st, err, sizeof err), STORE_OK);
	*state = f;
	return 0;
}

/* teardown - close and remove everything */
static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	store_close(f->st);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* the decisions of one item, as the built-in rules would make them */
struct decided {
	struct store_decision d;
	struct store_person people[64];
	char *accounts[64];
};

static const struct store_rule rule_policy = { "built-in", 12, "policy sent", "0000000000000001" };
static const struct store_rule rule_auto = { "built-in", 19, "account auto", "0000000000000002" };
static const struct store_rule rule_contacts = { "built-in", 20, "contacts", "0000000000000003" };
static const struct store_rule rule_log = { "built-in", 9, "log \"conversation\"", "0000000000000004" };

/* person - ADDR as an external participant (once); RECIPIENT of outbound mail is captured */
static void person(struct decided *x, const char *addr, int capture, const char *const *ours)
{
	const char *at = addr ? strchr(addr, '@') : NULL;
	struct store_person *p;
	char *reg;

	if (!at || !at[1] || strcmp(at + 1, ours[0]) == 0)
		return;
	for (size_t i = 0; i < x->d.n_people; i++)
		if (strcmp(x->people[i].addr, addr) == 0) {
			x->people[i].capture |= capture && !mail_addr_is_automated(addr);
			return;
		}
	assert_true(x->d.n_people < 64);
	reg = mail_registrable_domain(at + 1);
	p = &x->people[x->d.n_people];
	x->accounts[x->d.n_people++] = reg && !mail_is_freemail(reg) ? reg : (free(reg), NULL);
	*p = (struct store_person){ .addr = addr, .capture = capture && !mail_addr_is_automated(addr),
				    .trusted = 1, .capture_rule = &rule_policy,
				    .account = x->accounts[x->d.n_people - 1],
				    .account_rule = &rule_auto };
}

/* decide - decisions for R like the built-in rules' */
static void decide(struct decided *x, const struct mail_record *r, enum store_direction dir,
		   const struct store_envelope *env)
{
	const struct mail_addrs *lists[] = { &r->from, &r->sender, &r->reply_to, &r->to, &r->cc,
					     &r->bcc };
	int out = dir == STORE_OUTBOUND && !(r->flags & (MAIL_BULK | MAIL_BOUNCE | MAIL_AUTOREPLY));

	memset(x, 0, sizeof *x);
	x->d.people = x->people;
	x->d.log_rule = &rule_log;
	x->d.contacts_rule = &rule_contacts;
	x->d.inside = "workspace";
	x->d.outside = "everything";
	for (size_t l = 0; l < 6; l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			person(x, lists[l]->v[i].addr, out && l >= 3, own);
	for (size_t i = 0; env && i < env->n_rcpts; i++)
		person(x, env->rcpts[i], out, own);
}

/* decided_free - free what decide() allocated */
static void decided_free(struct decided *x)
{
	for (size_t i = 0; i < x->d.n_people; i++)
		free(x->accounts[i]);
}

/* ingest - store one record; returns the result (asserting success) */
static struct store_result ingest(struct fx *f, const struct mail_record *r,
				  enum store_direction dir, const char *origin,
				  const struct store_envelope *env)
{
	struct store_item it = { 0 };
	struct store_result res = { 0 };
	struct decided x;
	char err[256] = "";
	int rc;

	decide(&x, r, dir, env);
	it.dec = &x.d;
	it.rec = r;
	it.direction = dir;
	it.source = env ? STORE_SRC_MILTER : STORE_SRC_IMPORT;
	it.origin = origin;
	it.env = env;
	rc = store_ingest(f->st, &it, 1, &res, err, sizeof err);
	decided_free(&x);
	if (rc != STORE_OK)
		fail_msg("ingest %s: %s", r->message_id, err);
	return res;
}

/* ingest_free - ingest and free the record */
static struct store_result ingest_free(struct fx *f, struct mail_record *r,
				       enum store_direction dir)
{
	struct store_result res = ingest(f, r, dir, "test", NULL);

	rec_free(r);
	return res;
}

/* stat_of - one number of store_stats() */
static json_int_t stat_of(struct fx *f, const char *key)
{
	char err[256];
	json_t *s = store_stats(f->st, err, sizeof err);
	json_int_t v;

	assert_non_null(s);
	assert_true(json_is_integer(json_object_get(s, key)));
	v = json_integer_value(json_object_get(s, key));
	json_decref(s);
	return v;
}

/* contact_get - store_contact() of ADDR, or NULL */
static json_t *contact_get(struct fx *f, const char *addr)
{
	char err[256];

	return store_contact(f->st, addr, err, sizeof err);
}

/* cint - integer member of an object */
static json_int_t cint(json_t *o, const char *key)
{
	assert_true(json_is_integer(json_object_get(o, key)));
	return json_integer_value(json_object_get(o, key));
}

/* cstr - string member of an object, NULL when null */
static const char *cstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* thread_get - store_thread() of ID (asserting it exists) */
static json_t *thread_get(struct fx *f, int64_t id)
{
	char err[256];
	json_t *t = store_thread(f->st, id, err, sizeof err);

	if (!t)
		fail_msg("thread %lld: %s", (long long)id, err);
	return t;
}

/* ---- dedupe ---- */

/* a second copy adds only its source and envelope recipients */
static void test_dedupe(void **state)
{
	struct fx *f = *state;
	struct mail_record *r = rec_new("a@x", T0, "Offer", "alice@ourco.com", "bob@acme.com");
	const char *rc1[] = { "bob@acme.com" }, *rc2[] = { "bob@acme.com", "carol@acme.com" };
	struct store_envelope e1 = { .mail_from = "alice@ourco.com", .rcpts = rc1, .n_rcpts = 1,
				     .queue_id = "Q1" };
	struct store_envelope e2 = { .mail_from = "alice@ourco.com", .rcpts = rc2, .n_rcpts = 2,
				     .queue_id = "Q2" };
	struct store_result a, b, c;
	json_t *t, *m, *bob;

	a = ingest(f, r, STORE_OUTBOUND, "spool/1", &e1);
	b = ingest(f, r, STORE_OUTBOUND, "spool/2", &e2);
	c = ingest(f, r, STORE_OUTBOUND, "spool/2", &e2);
	assert_int_equal(a.duplicate, 0);
	assert_int_equal(b.duplicate, 1);
	assert_int_equal(c.duplicate, 1);
	assert_int_equal(b.message_id, a.message_id);
	assert_int_equal(b.thread_id, a.thread_id);
	assert_int_equal(stat_of(f, "messages"), 1);
	assert_int_equal(stat_of(f, "threads"), 1);
	/* from, to, envelope bob, envelope carol */
	assert_int_equal(stat_of(f, "participants"), 4);
	t = thread_get(f, a.thread_id);
	m = json_array_get(json_object_get(t, "messages"), 0);
	assert_int_equal(json_array_size(json_object_get(t, "messages")), 1);
	assert_int_equal(json_array_size(json_object_get(m, "sources")), 2);
	assert_int_equal(json_array_size(json_object_get(m, "envelope_rcpt")), 2);
	assert_int_equal(cint(t, "id"), a.thread_id);
	json_decref(t);
	bob = contact_get(f, "bob@acme.com");
	assert_non_null(bob);
	assert_int_equal(cint(bob, "received"), 1);
	assert_int_equal(cint(bob, "sent"), 0);
	json_decref(bob);
	bob = contact_get(f, "carol@acme.com");
	assert_non_null(bob);
	assert_int_equal(cint(bob, "received"), 1);
	json_decref(bob);
	rec_free(r);
}

/* a message without Message-ID is deduped by the synthetic id it carries */
static void test_dedupe_synthetic(void **state)
{
	struct fx *f = *state;
	struct mail_record *r = rec_new("synthetic.0123abcd@crmilter", T0, "No id",
					"x@acme.com", "alice@ourco.com");
	struct store_result a, b;

	r->flags |= MAIL_NO_MSGID;
	a = ingest(f, r, STORE_INBOUND, "mbox:0", NULL);
	b = ingest(f, r, STORE_INBOUND, "mbox:0", NULL);
	assert_int_equal(b.duplicate, 1);
	assert_int_equal(a.message_id, b.message_id);
	assert_int_equal(stat_of(f, "messages"), 1);
	rec_free(r);
}

/* a batch holding the same message twice stores it once; an error rolls back all */
static void test_batch_and_rollback(void **state)
{
	struct fx *f = *state;
	struct mail_record *r1 = rec_new("b1@x", T0, "One", "a@acme.com", "alice@ourco.com");
	struct mail_record *r2 = rec_new("", T0, "Bad", "a@acme.com", "alice@ourco.com");
	struct store_item it[3] = { { .rec = r1 }, { .rec = r1 }, { .rec = r2 } };
	struct store_result res[3];
	char err[256];

	assert_int_equal(store_ingest(f->st, it, 3, res, err, sizeof err), STORE_EINVAL);
	assert_non_null(strstr(err, "message id"));
	assert_int_equal(stat_of(f, "messages"), 0);
	assert_int_equal(stat_of(f, "threads"), 0);
	assert_int_equal(store_ingest(f->st, it, 2, res, err, sizeof err), STORE_OK);
	assert_int_equal(res[0].duplicate, 0);
	assert_int_equal(res[1].duplicate, 1);
	assert_int_equal(res[1].message_id, res[0].message_id);
	assert_int_equal(stat_of(f, "messages"), 1);
	rec_free(r1);
	rec_free(r2);
}

/* ---- threading ---- */

/* parent_of - the "parent" of message I of thread TID */
static const char *parent_of(json_t *t, size_t i)
{
	return cstr(json_array_get(json_object_get(t, "messages"), i), "parent");
}

/* a reply chain is one thread with parents set */
static void test_thread_chain(void **state)
{
	struct fx *f = *state;
	struct mail_record *a = rec_new("A@x", T0, "Plan", "bob@acme.com", "alice@ourco.com");
	struct mail_record *b = rec_new("B@x", T0 + 60, "Re: Plan", "alice@ourco.com", "bob@acme.com");
	struct mail_record *c = rec_new("C@x", T0 + 120, "Re: Plan", "bob@acme.com", "alice@ourco.com");
	struct store_result ra, rb, rc;
	json_t *t;

	rec_irt(b, "A@x");
	rec_refs(b, "A@x", NULL);
	rec_irt(c, "B@x");
	rec_refs(c, "A@x", "B@x", NULL);
	ra = ingest_free(f, a, STORE_INBOUND);
	rb = ingest_free(f, b, STORE_OUTBOUND);
	rc = ingest_free(f, c, STORE_INBOUND);
	assert_int_equal(rb.thread_id, ra.thread_id);
	assert_int_equal(rc.thread_id, ra.thread_id);
	assert_int_equal(stat_of(f, "threads"), 1);
	t = thread_get(f, ra.thread_id);
	assert_string_equal(cstr(t, "subject"), "Plan");
	assert_null(parent_of(t, 0));
	assert_string_equal(parent_of(t, 1), "A@x");
	assert_string_equal(parent_of(t, 2), "B@x");
	json_decref(t);
}

/* children first, then the parent: one thread, the placeholder filled */
static void test_thread_child_first(void **state)
{
	struct fx *f = *state;
	struct mail_record *a = rec_new("A@x", T0, "Plan", "bob@acme.com", "alice@ourco.com");
	struct mail_record *b = rec_new("B@x", T0 + 60, "Re: Plan", "alice@ourco.com", "bob@acme.com");
	struct mail_record *c = rec_new("C@x", T0 + 120, "Re: Plan", "bob@acme.com", "alice@ourco.com");
	struct store_result ra, rb, rc;
	json_t *t;

	rec_irt(b, "A@x");
	rec_refs(b, "A@x", NULL);
	rec_irt(c, "B@x");
	rec_refs(c, "A@x", "B@x", NULL);
	rc = ingest_free(f, c, STORE_INBOUND);
	ra = ingest_free(f, a, STORE_INBOUND);
	rb = ingest_free(f, b, STORE_OUTBOUND);
	assert_int_equal(ra.thread_id, rc.thread_id);
	assert_int_equal(rb.thread_id, rc.thread_id);
	assert_int_equal(stat_of(f, "threads"), 1);
	t = thread_get(f, rc.thread_id);
	assert_int_equal(json_array_size(json_object_get(t, "messages")), 3);
	/* subject of the earliest message; dates span all three */
	assert_string_equal(cstr(t, "subject"), "Plan");
	assert_string_equal(cstr(t, "first_date"), "2023-11-14T22:13:20Z");
	assert_string_equal(cstr(t, "last_date"), "2023-11-14T22:15:20Z");
	assert_string_equal(parent_of(t, 2), "B@x");
	json_decref(t);
}

/* a late message referencing two threads merges them into the oldest */
static void test_thread_merge(void **state)
{
	struct fx *f = *state;
	struct mail_record *x = rec_new("X@x", T0, "Alpha", "bob@acme.com", "alice@ourco.com");
	struct mail_record *y = rec_new("Y@x", T0 + 10, "Beta", "carl@beta.com", "dora@ourco.com");
	struct mail_record *z = rec_new("Z@x", T0 + 20, "Re: both", "alice@ourco.com", "bob@acme.com");
	struct store_result rx, ry, rz;
	json_t *t, *threads;
	char err[256];

	addr_add(&z->cc, "Carl", "carl@beta.com");
	rec_refs(z, "X@x", "Y@x", NULL);
	rx = ingest_free(f, x, STORE_INBOUND);
	ry = ingest_free(f, y, STORE_INBOUND);
	assert_int_not_equal(rx.thread_id, ry.thread_id);
	assert_int_equal(stat_of(f, "threads"), 2);
	rz = ingest_free(f, z, STORE_OUTBOUND);
	assert_int_equal(rz.thread_id, rx.thread_id);
	assert_int_equal(stat_of(f, "threads"), 1);
	t = thread_get(f, rx.thread_id);
	assert_int_equal(json_array_size(json_object_get(t, "messages")), 3);
	assert_string_equal(cstr(t, "subject"), "Alpha");
	/* the outbound message made contacts, linked to the merged thread */
	assert_int_equal(json_array_size(json_object_get(t, "contacts")), 2);
	assert_int_equal(json_array_size(json_object_get(t, "accounts")), 2);
	json_decref(t);
	assert_null(store_thread(f->st, ry.thread_id, err, sizeof err));
	assert_non_null(strstr(err, "no thread"));
	threads = store_threads(f->st, NULL, err, sizeof err);
	assert_int_equal(json_array_size(threads), 1);
	assert_int_equal(cint(json_array_get(threads, 0), "messages"), 3);
	json_decref(threads);
}

/* an In-Reply-To loop ends and makes one thread */
static void test_thread_loop(void **state)
{
	struct fx *f = *state;
	struct mail_record *a = rec_new("A@x", T0, "Loop", "bob@acme.com", "alice@ourco.com");
	struct mail_record *b = rec_new("B@x", T0 + 60, "Re: Loop", "alice@ourco.com", "bob@acme.com");
	struct mail_record *c = rec_new("C@x", T0 + 120, "Re: Loop", "bob@acme.com", "alice@ourco.com");
	struct store_result ra, rb, rc;
	json_t *t;

	rec_irt(a, "B@x");
	rec_irt(b, "A@x");
	rec_irt(c, "C@x");       /* points at itself */
	rec_refs(c, "A@x", "B@x", "A@x", NULL);
	ra = ingest_free(f, a, STORE_INBOUND);
	rb = ingest_free(f, b, STORE_OUTBOUND);
	rc = ingest_free(f, c, STORE_INBOUND);
	assert_int_equal(rb.thread_id, ra.thread_id);
	assert_int_equal(rc.thread_id, ra.thread_id);
	assert_int_equal(stat_of(f, "threads"), 1);
	t = thread_get(f, ra.thread_id);
	assert_string_equal(parent_of(t, 0), "B@x");
	assert_null(parent_of(t, 1));  /* A -> B -> A refused */
	json_decref(t);
}

#define TI1 "AQHaBcDeFgHiJkLmNoPqRsTuVwXyZ012"
#define TI2 "AQHaBcDeFgHiJkLmNoPqRsTuVwXyZ012AAAAAAAA"

/* Outlook's Thread-Index joins messages without References */
static void test_thread_index(void **state)
{
	struct fx *f = *state;
	struct mail_record *a = rec_new("A@x", T0, "Kickoff", "bob@acme.com", "alice@ourco.com");
	struct mail_record *b = rec_new("B@x", T0 + 60, "RE: the kickoff", "alice@ourco.com",
					"eve@else.com");
	struct store_result ra, rb;
	char *k1 = mail_thread_index_key(TI1), *k2 = mail_thread_index_key(TI2);

	assert_non_null(k1);
	assert_string_equal(k1, k2);
	free(k1);
	free(k2);
	a->hdr.thread_index = xdup(TI1);
	b->hdr.thread_index = xdup(TI2);
	ra = ingest_free(f, a, STORE_INBOUND);
	rb = ingest_free(f, b, STORE_OUTBOUND);
	assert_int_equal(rb.thread_id, ra.thread_id);
	assert_int_equal(stat_of(f, "threads"), 1);
}

/* the subject fallback needs a shared external participant, 30 days, a real subject */
static void test_subject_fallback(void **state)
{
	struct fx *f = *state;
	struct store_result r1, r2, r3, r4, r5, r6;

	r1 = ingest_free(f, rec_new("s1@x", T0, "Project Zephyr budget", "bob@acme.com",
				    "alice@ourco.com"), STORE_INBOUND);
	/* a reply without reference headers, to the same person: joins */
	r2 = ingest_free(f, rec_new("s2@x", T0 + DAY, "Re: Project Zephyr budget",
				    "alice@ourco.com", "bob@acme.com"), STORE_OUTBOUND);
	assert_int_equal(r2.thread_id, r1.thread_id);
	/* same subject, only internal people in common: no */
	r3 = ingest_free(f, rec_new("s3@x", T0 + 2 * DAY, "Project Zephyr budget",
				    "dave@other.com", "alice@ourco.com"), STORE_INBOUND);
	assert_int_not_equal(r3.thread_id, r1.thread_id);
	/* same subject, same person, two months later: no */
	r4 = ingest_free(f, rec_new("s4@x", T0 + 60 * DAY, "Re: Project Zephyr budget",
				    "bob@acme.com", "alice@ourco.com"), STORE_INBOUND);
	assert_int_not_equal(r4.thread_id, r1.thread_id);
	assert_int_not_equal(r4.thread_id, r3.thread_id);
	/* a generic subject never joins */
	r5 = ingest_free(f, rec_new("s5@x", T0, "Hello", "bob@acme.com", "alice@ourco.com"),
			 STORE_INBOUND);
	r6 = ingest_free(f, rec_new("s6@x", T0 + 60, "Re: hello", "alice@ourco.com",
				    "bob@acme.com"), STORE_OUTBOUND);
	assert_int_not_equal(r5.thread_id, r6.thread_id);
	assert_int_equal(stat_of(f, "threads"), 5);
}

/*
 * a message with References never falls back to the subject: not to an
 * earlier message, whichever arrives first
 */
static void test_no_fallback_with_refs(void **state)
{
	struct fx *f = *state;
	struct mail_record *b = rec_new("r2@x", T0 + 60, "Re: Quarterly numbers",
					"alice@ourco.com", "bob@acme.com");
	struct mail_record *d = rec_new("r4@x", T0 + 60, "Re: Annual numbers",
					"alice@ourco.com", "bob@acme.com");
	struct store_result r1, r2, r3, r4;

	r1 = ingest_free(f, rec_new("r1@x", T0, "Quarterly numbers", "bob@acme.com",
				    "alice@ourco.com"), STORE_INBOUND);
	rec_refs(b, "unknown@elsewhere", NULL);
	r2 = ingest_free(f, b, STORE_OUTBOUND);
	assert_int_not_equal(r2.thread_id, r1.thread_id);
	/* the other way round: the reply first, then the message without references */
	rec_refs(d, "unknown2@elsewhere", NULL);
	r4 = ingest_free(f, d, STORE_OUTBOUND);
	r3 = ingest_free(f, rec_new("r3@x", T0, "Annual numbers", "bob@acme.com",
				    "alice@ourco.com"), STORE_INBOUND);
	assert_int_not_equal(r3.thread_id, r4.thread_id);
	assert_int_equal(stat_of(f, "threads"), 4);
}

/* ---- contacts and accounts ---- */

/* outbound recipients become contacts with their account; automated ones never */
static void test_contacts_outbound(void **state)
{
	struct fx *f = *state;
	struct mail_record *r = rec_new("c1@x", T0, "Offer", "alice@ourco.com", "bob@acme.com");
	struct store_result res;
	json_t *c, *a;
	char err[256];

	r->to.v[0].name = xdup("Bob Builder");
	addr_add(&r->cc, NULL, "noreply@acme.com");
	addr_add(&r->cc, NULL, "dora@ourco.com");
	addr_add(&r->bcc, NULL, "joe@gmail.com");
	addr_add(&r->to, NULL, "ann@mail.acme.com");
	res = ingest_free(f, r, STORE_OUTBOUND);
	c = store_contacts(f->st, err, sizeof err);
	assert_int_equal(json_array_size(c), 3);
	assert_string_equal(cstr(json_array_get(c, 0), "address"), "ann@mail.acme.com");
	assert_string_equal(cstr(json_array_get(c, 0), "account"), "acme.com");
	assert_string_equal(cstr(json_array_get(c, 1), "address"), "bob@acme.com");
	assert_string_equal(cstr(json_array_get(c, 1), "name"), "Bob Builder");
	assert_string_equal(cstr(json_array_get(c, 1), "account"), "acme.com");
	assert_string_equal(cstr(json_array_get(c, 2), "address"), "joe@gmail.com");
	assert_true(json_is_null(json_object_get(json_array_get(c, 2), "account")));
	json_decref(c);
	a = store_accounts(f->st, err, sizeof err);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(cstr(json_array_get(a, 0), "domain"), "acme.com");
	assert_int_equal(cint(json_array_get(a, 0), "contacts"), 2);
	assert_int_equal(cint(json_array_get(a, 0), "threads"), 1);
	json_decref(a);
	c = contact_get(f, "bob@acme.com");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(c, "threads"), 0)),
			 res.thread_id);
	json_decref(c);
	assert_null(contact_get(f, "noreply@acme.com"));
	assert_null(contact_get(f, "dora@ourco.com"));
}

/* an inbound sender is no contact until we write to them */
static void test_contacts_inbound_then_reply(void **state)
{
	struct fx *f = *state;
	struct mail_record *q = rec_new("q1@x", T0, "Question about pricing", "dan@beta.com",
					"alice@ourco.com");
	struct mail_record *a = rec_new("q2@x", T0 + 3600, "Re: Question about pricing",
					"alice@ourco.com", "dan@beta.com");
	struct store_result rq, ra;
	char err[256];
	json_t *c, *t;

	q->from.v[0].name = xdup("Dan Early");
	rq = ingest_free(f, q, STORE_INBOUND);
	assert_int_equal(stat_of(f, "contacts"), 0);
	assert_null(contact_get(f, "dan@beta.com"));
	t = thread_get(f, rq.thread_id);
	assert_int_equal(json_array_size(json_object_get(t, "contacts")), 0);
	json_decref(t);
	rec_irt(a, "q1@x");
	rec_refs(a, "q1@x", NULL);
	ra = ingest_free(f, a, STORE_OUTBOUND);
	assert_int_equal(ra.thread_id, rq.thread_id);
	c = contact_get(f, "dan@beta.com");
	assert_non_null(c);
	assert_int_equal(cint(c, "sent"), 1);
	assert_int_equal(cint(c, "received"), 1);
	assert_string_equal(cstr(c, "name"), "Dan Early");
	assert_string_equal(cstr(c, "first_seen"), "2023-11-14T22:13:20Z");
	assert_string_equal(cstr(c, "last_seen"), "2023-11-14T23:13:20Z");
	assert_string_equal(cstr(c, "account"), "beta.com");
	json_decref(c);
	t = store_threads(f->st, &(struct store_thread_filter){ .account = "beta.com" }, err,
			  sizeof err);
	assert_int_equal(json_array_size(t), 1);
	json_decref(t);
	t = store_threads(f->st, &(struct store_thread_filter){ .contact = "dan@beta.com" }, err,
			  sizeof err);
	assert_int_equal(json_array_size(t), 1);
	json_decref(t);
}

/* nobody on bulk mail, bounces or auto-replies becomes a contact */
static void test_contacts_never_automated(void **state)
{
	struct fx *f = *state;
	const unsigned flags[] = { MAIL_BULK, MAIL_BOUNCE, MAIL_AUTOREPLY };
	char id[32], to[32];
	struct mail_record *r;
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof id, "auto%zu@x", i);
		snprintf(to, sizeof to, "user%zu@gamma.com", i);
		r = rec_new(id, T0, "Newsletter", "alice@ourco.com", to);
		r->flags = flags[i];
		ingest_free(f, r, STORE_OUTBOUND);
	}
	r = rec_new("auto9@x", T0, "Mail", "alice@ourco.com", "mailer-daemon@gamma.com");
	addr_add(&r->to, NULL, "postmaster@gamma.com");
	addr_add(&r->to, NULL, "bounces+123@gamma.com");
	ingest_free(f, r, STORE_OUTBOUND);
	assert_int_equal(stat_of(f, "contacts"), 0);
	assert_int_equal(stat_of(f, "accounts"), 0);
}

/* counts are right whatever the order and however many copies */
static void test_counts_order_and_dups(void **state)
{
	struct fx *f = *state;
	struct mail_record *m[4];
	int order[] = { 3, 1, 0, 2, 3, 0 };
	json_t *c;
	size_t i;

	m[0] = rec_new("n0@x", T0, "Deal", "alice@ourco.com", "bob@acme.com");
	m[1] = rec_new("n1@x", T0 + DAY, "Re: Deal", "bob@acme.com", "alice@ourco.com");
	m[2] = rec_new("n2@x", T0 + 2 * DAY, "Re: Deal", "alice@ourco.com", "bob@acme.com");
	m[3] = rec_new("n3@x", T0 + 3 * DAY, "Re: Deal", "bob@acme.com", "alice@ourco.com");
	for (i = 1; i < 4; i++)
		rec_refs(m[i], "n0@x", NULL);
	for (i = 0; i < sizeof order / sizeof order[0]; i++)
		ingest(f, m[order[i]], order[i] % 2 ? STORE_INBOUND : STORE_OUTBOUND, "o", NULL);
	c = contact_get(f, "bob@acme.com");
	assert_non_null(c);
	assert_int_equal(cint(c, "sent"), 2);
	assert_int_equal(cint(c, "received"), 2);
	assert_string_equal(cstr(c, "first_seen"), "2023-11-14T22:13:20Z");
	assert_string_equal(cstr(c, "last_seen"), "2023-11-17T22:13:20Z");
	assert_int_equal(json_array_size(json_object_get(c, "threads")), 1);
	json_decref(c);
	assert_int_equal(stat_of(f, "messages"), 4);
	assert_int_equal(stat_of(f, "threads"), 1);
	for (i = 0; i < 4; i++)
		rec_free(m[i]);
}

/* ---- direction ---- */

static void test_direction(void **state)
{
	struct fx *f = *state;
	struct mail_record *in = rec_new("d1@x", T0, "s", "bob@acme.com", "alice@ourco.com");
	struct mail_record *out = rec_new("d2@x", T0, "s", "alice@sub.ourco.com", "bob@acme.com");
	struct mail_record *intl = rec_new("d3@x", T0, "s", "alice@ourco.com", "dora@OURCO.com");

	assert_int_equal(store_direction_of(f->st, in, -1), STORE_INBOUND);
	assert_int_equal(store_direction_of(f->st, out, -1), STORE_OUTBOUND);
	assert_int_equal(store_direction_of(f->st, in, 1), STORE_OUTBOUND);
	assert_int_equal(store_direction_of(f->st, out, 0), STORE_INBOUND);
	assert_int_equal(store_direction_of(f->st, intl, 0), STORE_INTERNAL);
	assert_int_equal(store_is_internal(f->st, "x@ourco.com"), 1);
	assert_int_equal(store_is_internal(f->st, "x@notourco.com"), 0);
	rec_free(in);
	rec_free(out);
	rec_free(intl);
}

/* ---- open, migrations, errors ---- */

/* exec_sql - run SQL on a separate connection to the fixture's file */
static void exec_sql(struct fx *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* user_version is set; reopening migrates nothing and keeps the data */
static void test_migrations(void **state)
{
	struct fx *f = *state;
	struct store *st2 = NULL;
	char err[256];

	assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
	ingest_free(f, rec_new("m1@x", T0, "Keep", "bob@acme.com", "alice@ourco.com"),
		    STORE_INBOUND);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(open_store(f, 0, STORE_RAW_FULL, 0, &f->st, err, sizeof err), STORE_OK);
	assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
	assert_int_equal(stat_of(f, "messages"), 1);
	/* a store from the future is refused with a clear message */
	exec_sql(f, "PRAGMA user_version = 99");
	assert_int_equal(open_store(f, 0, STORE_RAW_FULL, 0, &st2, err, sizeof err), STORE_ECORRUPT);
	assert_null(st2);
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, f->path));
	exec_sql(f, "PRAGMA user_version = 1");
}

/* a read-only store reads but cannot write; it never creates a file */
static void test_readonly(void **state)
{
	struct fx *f = *state;
	struct mail_record *r = rec_new("ro@x", T0, "Ro", "bob@acme.com", "alice@ourco.com");
	struct store_item it = { .rec = r };
	struct store_result res;
	struct store *ro = NULL;
	char err[256], missing[100];
	json_t *s;

	ingest_free(f, rec_new("rw@x", T0, "Rw", "bob@acme.com", "alice@ourco.com"), STORE_INBOUND);
	assert_int_equal(open_store(f, 1, STORE_RAW_FULL, 0, &ro, err, sizeof err), STORE_OK);
	assert_int_equal(store_ingest(ro, &it, 1, &res, err, sizeof err), STORE_EREADONLY);
	assert_non_null(strstr(err, "read-only"));
	s = store_stats(ro, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(s, "messages")), 1);
	json_decref(s);
	store_close(ro);
	rec_free(r);
	snprintf(missing, sizeof missing, "%s/none.db", f->dir);
	snprintf(f->path, sizeof f->path, "%s", missing);
	ro = NULL;
	assert_int_equal(open_store(f, 1, STORE_RAW_FULL, 0, &ro, err, sizeof err), STORE_EIO);
	assert_null(ro);
	assert_int_equal(access(missing, F_OK), -1);
}

/* another writer holding the lock gives EBUSY, and the batch can be retried */
static void test_busy(void **state)
{
	struct fx *f = *state;
	struct mail_record *r = rec_new("busy@x", T0, "Busy", "bob@acme.com", "alice@ourco.com");
	struct store_item it = { .rec = r };
	struct store_result res;
	struct store *st = NULL;
	sqlite3 *db;
	char err[256];

	assert_int_equal(open_store(f, 0, STORE_RAW_FULL, 50, &st, err, sizeof err), STORE_OK);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_ingest(st, &it, 1, &res, err, sizeof err), STORE_EBUSY);
	assert_non_null(strstr(err, f->path));
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_ingest(st, &it, 1, &res, err, sizeof err), STORE_OK);
	assert_int_equal(res.duplicate, 0);
	store_close(st);
	rec_free(r);
}

/* a file that is not a database is ECORRUPT */
static void test_not_a_database(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	char err[256];
	FILE *fp;

	snprintf(f->path, sizeof f->path, "%s/junk.db", f->dir);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database at all\n", fp);
	fclose(fp);
	assert_int_equal(open_store(f, 0, STORE_RAW_FULL, 0, &st, err, sizeof err), STORE_ECORRUPT);
	assert_null(st);
	assert_string_equal(store_strerror(STORE_ECORRUPT), "corrupt");
	assert_string_equal(store_strerror(STORE_EBUSY), "busy");
}

/* ---- raw source ---- */

/* raw_roundtrip - ingest RAW with mode MODE; check stats and the body read back */
static void raw_case(struct fx *f, enum store_raw mode, json_int_t want_stored_nonzero)
{
	static const char raw[] = "From: bob@acme.com\nTo: alice@ourco.com\nSubject: Raw\n"
				  "Message-ID: <raw@x>\n\nHello,\n\nsome text.\n";
	struct mail_record *r = rec_new("raw@x", T0, "Raw", "bob@acme.com", "alice@ourco.com");
	struct store_item it = { .rec = r, .raw = raw, .raw_len = sizeof raw - 1 };
	struct store_result res;
	struct store *st = NULL;
	char err[256];
	json_t *s, *t;

	r->size = sizeof raw - 1;
	r->header_len = (size_t)(strstr(raw, "\n\n") - raw) + 2;
	snprintf(f->path, sizeof f->path, "%s/raw%d.db", f->dir, (int)mode);
	assert_int_equal(open_store(f, 0, mode, 0, &st, err, sizeof err), STORE_OK);
	assert_int_equal(store_ingest(st, &it, 1, &res, err, sizeof err), STORE_OK);
	s = store_stats(st, err, sizeof err);
	assert_int_equal(json_integer_value(json_object_get(s, "raw_bytes")), sizeof raw - 1);
	assert_int_equal(json_integer_value(json_object_get(s, "raw_stored_bytes")) != 0,
			 want_stored_nonzero);
	json_decref(s);
	t = store_thread(st, res.thread_id, err, sizeof err);
	assert_non_null(t);
	assert_string_equal(cstr(json_array_get(json_object_get(t, "messages"), 0), "body"),
			    "Hello,\n\nsome text.\n");
	json_decref(t);
	store_close(st);
	rec_free(r);
}

static void test_raw_modes(void **state)
{
	raw_case(*state, STORE_RAW_FULL, 1);
	raw_case(*state, STORE_RAW_HEADERS, 1);
	raw_case(*state, STORE_RAW_NONE, 0);
}

/* sql_int - one integer from SQL on a separate connection */
static int sql_int(struct fx *f, const char *sql)
{
	sqlite3_stmt *s;
	sqlite3 *db;
	int v = -1;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* fake_mail - a plain-text message number I with varied words; returns its length */
static size_t fake_mail(char *buf, size_t cap, unsigned i, size_t *header_len)
{
	static const char *const words[] = {
		"contract", "invoice", "delivery", "schedule", "budget", "review", "customer",
		"order", "price", "offer", "update", "report", "meeting", "proposal", "draft",
		"approval", "question", "support", "release", "quarter", "design", "product",
		"service", "account", "manager", "thanks", "please", "regards", "monday", "friday",
	};
	unsigned seed = i * 2654435761u + 12345;
	size_t n, w;

	n = (size_t)snprintf(buf, cap,
			     "Received: from mx%u.acme.com (mx%u.acme.com [192.0.2.%u])\n"
			     "\tby mail.ourco.com (Postfix) with ESMTPS id Q%08X\n"
			     "Message-ID: <dict%u@acme.com>\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n"
			     "From: Bob <bob@acme.com>\nTo: Alice <alice@ourco.com>\n"
			     "Subject: Order %u\nMIME-Version: 1.0\n"
			     "Content-Type: text/plain; charset=utf-8\n\n",
			     i % 7, i % 7, i % 250, seed, i, i);
	*header_len = n;
	for (w = 0; w < 200 && n < cap - 32; w++) {
		seed = seed * 1103515245u + 12345;
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", words[(seed >> 16) % 30],
				      w % 12 == 11 ? ".\n" : " ");
	}
	return n;
}

/* after enough mail a zstd dictionary is trained; everything reads back */
static void test_dictionary(void **state)
{
	struct fx *f = *state;
	static char raw[100][4096];
	struct store_item it[100];
	struct store_result res[100];
	struct mail_record *r[100];
	char id[32], subject[32], err[256];
	size_t hl, len, k;
	unsigned i;
	json_t *t, *m;

	for (i = 0; i < 1200; i++) {
		k = i % 100;
		len = fake_mail(raw[k], sizeof raw[k], i, &hl);
		snprintf(id, sizeof id, "dict%u@acme.com", i);
		snprintf(subject, sizeof subject, "Order number %u", i);
		r[k] = rec_new(id, T0 + i, subject, "bob@acme.com", "alice@ourco.com");
		free(r[k]->body);
		r[k]->body = strndup(raw[k] + hl, len - hl);
		r[k]->body_len = len - hl;
		r[k]->header_len = hl;
		r[k]->size = len;
		it[k] = (struct store_item){ .rec = r[k], .raw = raw[k], .raw_len = len };
		if (k < 99)
			continue;
		assert_int_equal(store_ingest(f->st, it, 100, res, err, sizeof err), STORE_OK);
		for (k = 0; k < 100; k++)
			rec_free(r[k]);
	}
	assert_int_equal(sql_int(f, "SELECT count(*) FROM zdicts"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM raw WHERE dict_id IS NULL"), 0);
	assert_true(stat_of(f, "raw_stored_bytes") * 4 < stat_of(f, "raw_bytes"));
	for (i = 0; i < 1200; i += 1199) {
		len = fake_mail(raw[0], sizeof raw[0], i, &hl);
		t = thread_get(f, (int64_t)i + 1);
		m = json_array_get(json_object_get(t, "messages"), 0);
		assert_int_equal(strlen(cstr(m, "body")), len - hl);
		assert_memory_equal(cstr(m, "body"), raw[0] + hl, len - hl);
		json_decref(t);
	}
	/* a new handle picks the dictionary up again */
	store_close(f->st);
	assert_int_equal(open_store(f, 0, STORE_RAW_FULL, 0, &f->st, err, sizeof err), STORE_OK);
	len = fake_mail(raw[0], sizeof raw[0], 5000, &hl);
	r[0] = rec_new("dict5000@acme.com", T0, "Order", "bob@acme.com", "alice@ourco.com");
	it[0] = (struct store_item){ .rec = r[0], .raw = raw[0], .raw_len = len };
	assert_int_equal(store_ingest(f->st, it, 1, res, err, sizeof err), STORE_OK);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM raw WHERE dict_id IS NULL"), 0);
	rec_free(r[0]);
}

/* ---- JSON shapes ---- */

/* has_keys - the object has exactly the NULL-terminated keys */
static void has_keys(json_t *o, ...)
{
	va_list ap;
	const char *k;
	size_t n = 0;

	assert_true(json_is_object(o));
	va_start(ap, o);
	while ((k = va_arg(ap, const char *)) != NULL) {
		if (!json_object_get(o, k))
			fail_msg("missing key %s", k);
		n++;
	}
	va_end(ap);
	assert_int_equal(json_object_size(o), n);
}

static void test_json_shapes(void **state)
{
	struct fx *f = *state;
	struct mail_record *r = rec_new("j1@x", T0, "Shapes", "alice@ourco.com", "bob@acme.com");
	struct mail_record *s2 = rec_new("j2@x", T0 + 5, "Re: Shapes", "bob@acme.com",
					 "alice@ourco.com");
	struct store_result res;
	json_t *v, *m;
	char err[256];

	r->flags = MAIL_HTML_BODY | MAIL_BAD_DATE;
	r->quotes = calloc(1, sizeof *r->quotes);
	r->quotes[0].start = 8;
	r->quotes[0].len = 4;
	r->n_quotes = 1;
	r->attachments = calloc(1, sizeof *r->attachments);
	r->attachments[0].filename = xdup("a.pdf");
	r->attachments[0].content_type = xdup("application/pdf");
	r->attachments[0].size = 1234;
	memset(r->attachments[0].sha256, 'a', 64);
	r->n_attachments = 1;
	res = ingest(f, r, STORE_OUTBOUND, "x.eml", NULL);
	rec_free(r);
	rec_irt(s2, "j1@x");
	ingest_free(f, s2, STORE_INBOUND);

	v = store_stats(f->st, err, sizeof err);
	has_keys(v, "schema_version", "messages", "threads", "contacts", "accounts", "attachments",
		 "participants", "raw_bytes", "raw_stored_bytes", "inbound", "outbound", "internal",
		 "skipped", "deals", "unassigned", NULL);
	assert_int_equal(cint(v, "inbound"), 1);
	assert_int_equal(cint(v, "outbound"), 1);
	assert_int_equal(cint(v, "attachments"), 1);
	json_decref(v);

	v = store_threads(f->st, &(struct store_thread_filter){ .limit = 10 }, err, sizeof err);
	assert_int_equal(json_array_size(v), 1);
	has_keys(json_array_get(v, 0), "id", "subject", "first_date", "last_date", "messages",
		 "accounts", "contacts", NULL);
	json_decref(v);
	v = store_threads(f->st, &(struct store_thread_filter){ .limit = 10, .offset = 1 }, err,
			  sizeof err);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);

	v = thread_get(f, res.thread_id);
	has_keys(v, "id", "subject", "first_date", "last_date", "accounts", "contacts", "messages",
		 "deals", "visibility", "unassigned", "links", NULL);
	m = json_array_get(json_object_get(v, "messages"), 0);
	has_keys(m, "id", "message_id", "date", "direction", "subject", "from", "to", "cc", "bcc",
		 "envelope_rcpt", "flags", "snippet", "body", "quotes", "attachments", "sources",
		 "in_reply_to", "parent", "log", "visibility", NULL);
	assert_string_equal(cstr(m, "date"), "2023-11-14T22:13:20Z");
	assert_string_equal(cstr(m, "direction"), "outbound");
	assert_string_equal(cstr(json_object_get(m, "from"), "address"), "alice@ourco.com");
	has_keys(json_object_get(m, "from"), "name", "address", NULL);
	assert_string_equal(cstr(json_array_get(json_object_get(m, "to"), 0), "address"),
			    "bob@acme.com");
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "flags"), 0)), "html");
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "flags"), 1)),
			    "bad-date");
	assert_int_equal(json_integer_value(json_array_get(json_array_get(
				 json_object_get(m, "quotes"), 0), 0)), 8);
	has_keys(json_array_get(json_object_get(m, "attachments"), 0), "filename", "content_type",
		 "size", "sha256", NULL);
	has_keys(json_array_get(json_object_get(m, "sources"), 0), "source", "origin", NULL);
	assert_string_equal(cstr(json_array_get(json_object_get(m, "sources"), 0), "source"),
			    "import");
	assert_string_equal(cstr(m, "body"), "Hello,\n\nsome text.\n");
	/* the snippet is rebuilt from the body without its quote span (8, 4 bytes) */
	assert_string_equal(cstr(m, "snippet"), "Hello, text.");
	m = json_array_get(json_object_get(v, "messages"), 1);
	assert_string_equal(cstr(m, "snippet"), "Hello, some text.");  /* derived from the body */
	assert_string_equal(cstr(m, "in_reply_to"), "j1@x");
	assert_string_equal(cstr(m, "parent"), "j1@x");
	json_decref(v);

	v = store_contacts(f->st, err, sizeof err);
	has_keys(json_array_get(v, 0), "address", "name", "account", "first_seen", "last_seen",
		 "sent", "received", "threads", NULL);
	assert_int_equal(cint(json_array_get(v, 0), "threads"), 1);
	json_decref(v);
	v = contact_get(f, "bob@acme.com");
	has_keys(v, "address", "name", "account", "first_seen", "last_seen", "sent", "received",
		 "threads", "captured_by", NULL);
	assert_true(json_is_array(json_object_get(v, "threads")));
	json_decref(v);
	assert_null(store_contact(f->st, "nobody@acme.com", err, sizeof err));
	assert_string_equal(err, "no contact nobody@acme.com");
	v = store_accounts(f->st, err, sizeof err);
	has_keys(json_array_get(v, 0), "domain", "name", "contacts", "threads", "last_activity",
		 NULL);
	assert_string_equal(cstr(json_array_get(v, 0), "last_activity"), "2023-11-14T22:13:25Z");
	json_decref(v);
}

/*
 * each link carries its thread's last date and whether the thread shows
 * everyone something (schema.c's triggers): the viewer's timelines and
 * counts rely on it
 */
static void test_links_follow_thread(void **state)
{
	struct fx *f = *state;
	struct mail_record *r;

	ingest_free(f, rec_new("lf1@x", T0, "Links", "alice@ourco.com", "bob@acme.com"),
		    STORE_OUTBOUND);
	assert_true(sql_int(f, "SELECT count(*) FROM links") > 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM links l JOIN threads t ON t.id ="
				 " l.thread_id WHERE l.last_date = t.last_date AND l.shown = 1"),
			 sql_int(f, "SELECT count(*) FROM links"));
	/* a later reply moves every link's date */
	r = rec_new("lf2@x", T0 + 3600, "Re: Links", "bob@acme.com", "alice@ourco.com");
	rec_irt(r, "lf1@x");
	ingest_free(f, r, STORE_INBOUND);
	assert_int_equal(sql_int(f, "SELECT count(DISTINCT last_date) FROM links"), 1);
	assert_int_equal(sql_int(f, "SELECT min(last_date) - 1700000000 FROM links"), 3600);
	/* hidden from others: not shown; visible to the workspace again: shown */
	exec_sql(f, "UPDATE threads SET visibility = 'participants', outside = 'nothing'");
	assert_int_equal(sql_int(f, "SELECT sum(shown) FROM links"), 0);
	exec_sql(f, "UPDATE threads SET outside = 'metadata'");
	assert_int_equal(sql_int(f, "SELECT min(shown) FROM links"), 1);
	exec_sql(f, "UPDATE threads SET visibility = 'workspace', outside = 'nothing'");
	assert_int_equal(sql_int(f, "SELECT min(shown) FROM links"), 1);
	exec_sql(f, "UPDATE threads SET messages = 0");
	assert_int_equal(sql_int(f, "SELECT sum(shown) FROM links"), 0);
}

/* rec_att - give R one more attachment named NAME */
static void rec_att(struct mail_record *r, const char *name)
{
	struct mail_attachment *a;

	r->attachments = realloc(r->attachments, (r->n_attachments + 1) * sizeof *a);
	assert_non_null(r->attachments);
	a = &r->attachments[r->n_attachments++];
	memset(a, 0, sizeof *a);
	a->filename = xdup(name);
	a->content_type = xdup("application/pdf");
	a->size = 1000;
	memset(a->sha256, 'a', 64);
}

/* a thread counts its messages' attachments, through new mail and merges */
static void test_thread_attachments(void **state)
{
	struct fx *f = *state;
	struct mail_record *x = rec_new("AX@x", T0, "Quote", "bob@acme.com", "alice@ourco.com");
	struct mail_record *y = rec_new("AY@x", T0 + 10, "Order", "carl@beta.com", "dora@ourco.com");
	struct mail_record *z = rec_new("AZ@x", T0 + 20, "Re: both", "alice@ourco.com", "bob@acme.com");
	struct store_result rx, ry;

	rec_att(x, "quote.pdf");
	rec_att(y, "order.pdf");
	rec_att(y, "terms.pdf");
	rx = ingest_free(f, x, STORE_INBOUND);
	ry = ingest_free(f, y, STORE_INBOUND);
	assert_int_equal(sql_int(f, "SELECT attachments FROM threads ORDER BY id LIMIT 1"), 1);
	assert_int_equal(sql_int(f, "SELECT attachments FROM threads ORDER BY id DESC LIMIT 1"), 2);
	assert_int_not_equal(rx.thread_id, ry.thread_id);
	/* a reply to both, without attachments, merges them: 3 */
	addr_add(&z->cc, "Carl", "carl@beta.com");
	rec_refs(z, "AX@x", "AY@x", NULL);
	ingest_free(f, z, STORE_OUTBOUND);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM threads"), 1);
	assert_int_equal(sql_int(f, "SELECT attachments FROM threads"), 3);
}

/* sql_text - one text value from SQL on a separate connection, into BUF */
static const char *sql_text(struct fx *f, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *s;
	sqlite3 *db;

	buf[0] = '\0';
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return buf;
}

static const struct store_rule rule_vis = { "rules", 30, "visibility", "0000000000000030" };

/* ingest_vis - ingest and free R with the visibility INSIDE/OUTSIDE (by rule_vis) */
static struct store_result ingest_vis(struct fx *f, struct mail_record *r, enum store_direction dir,
				      const char *inside, const char *outside)
{
	struct store_item it = { 0 };
	struct store_result res = { 0 };
	struct decided x;
	char err[256] = "";

	decide(&x, r, dir, NULL);
	x.d.inside = inside;
	x.d.outside = outside;
	x.d.visibility_reason = inside;
	x.d.visibility_rule = &rule_vis;
	it.dec = &x.d;
	it.rec = r;
	it.direction = dir;
	it.source = STORE_SRC_IMPORT;
	it.origin = "test";
	if (store_ingest(f->st, &it, 1, &res, err, sizeof err) != STORE_OK)
		fail_msg("ingest %s: %s", r->message_id, err);
	decided_free(&x);
	rec_free(r);
	return res;
}

/* vis_of - "VISIBILITY/OUTSIDE" of thread TID into BUF */
static const char *vis_of(struct fx *f, int64_t tid, char *buf, size_t len)
{
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT visibility || '/' || outside FROM threads WHERE id = %lld",
		 (long long)tid);
	return sql_text(f, sql, buf, len);
}

/*
 * a thread's visibility only narrows: each message's meets it (two teams
 * meet in the participants; outside, the least seen), so a reply an
 * outsider writes can never widen who sees the earlier messages
 */
static void test_visibility_narrows(void **state)
{
	struct fx *f = *state;
	struct mail_record *r;
	struct store_result a;
	char v[64];

	a = ingest_vis(f, rec_new("vn1@x", T0, "Plan", "alice@ourco.com", "bob@acme.com"),
		       STORE_OUTBOUND, "team:sales", "subject");
	assert_string_equal(vis_of(f, a.thread_id, v, sizeof v), "team:sales/subject");
	r = rec_new("vn2@x", T0 + 10, "Re: Plan", "bob@acme.com", "alice@ourco.com");
	rec_irt(r, "vn1@x");
	ingest_vis(f, r, STORE_INBOUND, "workspace", "everything");
	assert_string_equal(vis_of(f, a.thread_id, v, sizeof v), "team:sales/subject");
	r = rec_new("vn3@x", T0 + 20, "Re: Plan", "bob@acme.com", "alice@ourco.com");
	rec_irt(r, "vn2@x");
	ingest_vis(f, r, STORE_INBOUND, "team:hr", "everything");
	assert_string_equal(vis_of(f, a.thread_id, v, sizeof v), "participants/subject");
	r = rec_new("vn4@x", T0 + 30, "Re: Plan", "bob@acme.com", "alice@ourco.com");
	rec_irt(r, "vn3@x");
	ingest_vis(f, r, STORE_INBOUND, "team:sales", "metadata");
	assert_string_equal(vis_of(f, a.thread_id, v, sizeof v), "participants/metadata");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM threads t JOIN rules r ON r.id = t.vis_rule"
				 " WHERE r.line = 30"), 1);
}

/* a message that merges a private thread with an open one makes the merged thread private */
static void test_visibility_merge(void **state)
{
	struct fx *f = *state;
	struct mail_record *z;
	struct store_result a, b, c;
	char v[64];

	a = ingest_vis(f, rec_new("vm1@x", T0, "Open", "alice@ourco.com", "bob@acme.com"),
		       STORE_OUTBOUND, "workspace", "everything");
	b = ingest_vis(f, rec_new("vm2@x", T0 + 10, "Salary", "hr@ourco.com", "bob@acme.com"),
		       STORE_OUTBOUND, "participants", "nothing");
	assert_int_not_equal(a.thread_id, b.thread_id);
	/* the outsider's message references both and claims the workspace */
	z = rec_new("vm3@x", T0 + 20, "Re: both", "bob@acme.com", "alice@ourco.com");
	rec_refs(z, "vm1@x", "vm2@x", NULL);
	c = ingest_vis(f, z, STORE_INBOUND, "workspace", "everything");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM threads"), 1);
	assert_string_equal(vis_of(f, c.thread_id, v, sizeof v), "participants/nothing");
	/* and the other way round: two teams' threads merge into the participants */
	a = ingest_vis(f, rec_new("vm4@x", T0 + 30, "Deal", "alice@ourco.com", "carl@beta.com"),
		       STORE_OUTBOUND, "team:sales", "everything");
	b = ingest_vis(f, rec_new("vm5@x", T0 + 40, "Hire", "hr@ourco.com", "carl@beta.com"),
		       STORE_OUTBOUND, "team:hr", "metadata");
	z = rec_new("vm6@x", T0 + 50, "Re: both", "carl@beta.com", "alice@ourco.com");
	rec_refs(z, "vm5@x", "vm4@x", NULL);
	c = ingest_vis(f, z, STORE_INBOUND, "workspace", "everything");
	assert_string_equal(vis_of(f, c.thread_id, v, sizeof v), "participants/metadata");
}

/*
 * a thread's status (last in and out, since when it waits for whom), on
 * the thread and its links; for a thread that shows outsiders nothing, the
 * same per delivering address from that address's messages (thread_people),
 * kept when a copy's envelope adds a recipient, gone once the thread shows
 * everyone something
 */
static void test_thread_status(void **state)
{
	struct fx *f = *state;
	struct mail_record *r = rec_new("ts1@x", T0, "Status", "alice@ourco.com", "bob@acme.com");
	struct mail_record *z;
	const char *rc1[] = { "bob@acme.com" }, *rc2[] = { "bob@acme.com", "dave@ourco.com" };
	struct store_envelope e1 = { .mail_from = "alice@ourco.com", .rcpts = rc1, .n_rcpts = 1,
				     .queue_id = "Q1" };
	struct store_envelope e2 = { .mail_from = "alice@ourco.com", .rcpts = rc2, .n_rcpts = 2,
				     .queue_id = "Q2" };

	ingest(f, r, STORE_OUTBOUND, "spool/1", &e1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM threads WHERE last_in IS NULL AND"
				 " last_out = 1700000000 AND wait_us IS NULL AND wait_them = last_out"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM thread_people"), 0);
	/* as a [visibility] rule decides it: later mail never widens it */
	exec_sql(f, "UPDATE threads SET visibility = 'participants', outside = 'nothing',"
		 " vis_rule = (SELECT min(id) FROM rules)");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM thread_people WHERE last_out = 1700000000"
				 " AND wait_them = last_out AND address IN ('alice@ourco.com',"
				 " 'bob@acme.com')"), 2);
	/* another copy whose envelope adds dave: he sees it now */
	ingest(f, r, STORE_OUTBOUND, "spool/2", &e2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM thread_people WHERE address ="
				 " 'dave@ourco.com' AND last = 1700000000"), 1);
	/* bob answers alice alone: she and the thread wait on us, dave still on them */
	z = rec_new("ts2@x", T0 + 3600, "Re: Status", "bob@acme.com", "alice@ourco.com");
	rec_irt(z, "ts1@x");
	ingest_free(f, z, STORE_INBOUND);
	assert_int_equal(sql_int(f, "SELECT wait_us - 1700000000 FROM threads WHERE wait_them IS NULL"
				 " AND last_in = wait_us"), 3600);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM links WHERE wait_us IS NULL"), 0);
	assert_int_equal(sql_int(f, "SELECT wait_us - 1700000000 FROM thread_people WHERE address ="
				 " 'alice@ourco.com' AND wait_them IS NULL"), 3600);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM thread_people WHERE address ="
				 " 'dave@ourco.com' AND wait_us IS NULL AND wait_them = 1700000000"), 1);
	/* shown to everyone again: the thread's own figures serve all */
	exec_sql(f, "UPDATE threads SET outside = 'metadata'");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM thread_people"), 0);
	rec_free(r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dedupe),
		T(test_dedupe_synthetic),
		T(test_batch_and_rollback),
		T(test_thread_chain),
		T(test_thread_child_first),
		T(test_thread_merge),
		T(test_thread_loop),
		T(test_thread_index),
		T(test_subject_fallback),
		T(test_no_fallback_with_refs),
		T(test_contacts_outbound),
		T(test_contacts_inbound_then_reply),
		T(test_contacts_never_automated),
		T(test_counts_order_and_dups),
		T(test_direction),
		T(test_migrations),
		T(test_readonly),
		T(test_busy),
		T(test_not_a_database),
		T(test_raw_modes),
		T(test_dictionary),
		T(test_json_shapes),
		T(test_links_follow_thread),
		T(test_thread_attachments),
		T(test_visibility_narrows),
		T(test_visibility_merge),
		T(test_thread_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
