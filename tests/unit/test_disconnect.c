/*
 * test_disconnect.c - unit tests of disconnected mailboxes: storage/mailbox.c
 * (state, audit, the list) and the check store_ingest() makes once per
 * batch, through the whole ingest pipeline (ingest/) as crmilter and crmctl
 * import use it
 *
 * Each test gets a fresh store in a temporary directory.  Own domain:
 * example.com.  The pipeline's store handle stays open while a second
 * handle (crmctl's) changes the state, as with a running crmilter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "../../ingest/ingest.h"

#define MAX_OUT 16

struct fx {
	char dir[64];
	char db[128];
	struct conf conf;
	struct ingest *in;            /* the pipeline, open all along */
	struct store *ctl;            /* a second handle, as crmctl */
	struct {
		char msgid[128];
		int skipped;
		char reason[64];
	} out[MAX_OUT];
	size_t n_out;
};

/* on_outcome - remember what became of each message */
static void on_outcome(const struct ingest_outcome *o, void *arg)
{
	struct fx *f = arg;

	assert_null(o->error);
	assert_true(f->n_out < MAX_OUT);
	snprintf(f->out[f->n_out].msgid, sizeof f->out[0].msgid, "%s", o->message_id);
	f->out[f->n_out].skipped = o->skipped;
	snprintf(f->out[f->n_out].reason, sizeof f->out[0].reason, "%s",
		 o->skip_reason ? o->skip_reason : "");
	f->n_out++;
}

/* write_file - TEXT into DIR/NAME; the path in BUF */
static const char *write_file(const char *dir, const char *name, const char *text, char *buf,
			      size_t len)
{
	FILE *fp;

	snprintf(buf, len, "%s/%s", dir, name);
	fp = fopen(buf, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return buf;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct store_opts o = { 0 };
	char conf[128], empty[128], text[512], err[512];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/crmdiscXXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/crm.db", f->dir);
	write_file(f->dir, "freemail", "", empty, sizeof empty);
	snprintf(text, sizeof text, "Database %s\nDomains example.com\nFreemailDomains %s\n", f->db,
		 empty);
	assert_int_equal(conf_load(write_file(f->dir, "crmilter.conf", text, conf, sizeof conf),
				   &f->conf, err, sizeof err), 0);
	assert_int_equal(ingest_open(&f->conf, on_outcome, f, &f->in, err, sizeof err), STORE_OK);
	o.path = f->db;
	o.own_domains = (const char *const *)f->conf.domains.v;
	o.n_own_domains = f->conf.domains.n;
	assert_int_equal(store_open(&o, &f->ctl, err, sizeof err), STORE_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	ingest_close(f->in);
	store_close(f->ctl);
	conf_free(&f->conf);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/*
 * deliver - one message FROM -> TO (CC may be NULL) through the pipeline with
 * envelope recipients RCPTS (NULL-terminated, may be NULL: imported), as
 * its own batch; returns the index of its outcome
 */
static size_t deliver(struct fx *f, const char *id, const char *from, const char *to,
		   const char *cc, const char *const *rcpts)
{
	char raw[1024], err[512];
	size_t n = 0;
	struct store_envelope env = { .mail_from = from, .rcpts = rcpts };
	struct ingest_msg m = { .raw = raw, .origin = id, .source = STORE_SRC_MILTER,
				.env = rcpts ? &env : NULL, .originated = -1 };

	while (rcpts && rcpts[n])
		n++;
	env.n_rcpts = n;
	snprintf(raw, sizeof raw, "From: <%s>\r\nTo: <%s>\r\n%s%s%sSubject: %s\r\n"
		 "Message-ID: <%s>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nHello %s.\r\n",
		 from, to, cc ? "Cc: <" : "", cc ? cc : "", cc ? ">\r\n" : "", id, id, id);
	m.len = strlen(raw);
	assert_int_equal(ingest_add(f->in, &m, err, sizeof err), STORE_OK);
	assert_int_equal(ingest_flush(f->in, err, sizeof err), STORE_OK);
	assert_true(f->n_out > 0);
	assert_string_equal(f->out[f->n_out - 1].msgid, id);
	return f->n_out - 1;
}

/* query - the first column of the first row of SQL as text (static), "" when none */
static const char *query(struct fx *f, const char *sql)
{
	static char buf[256];
	sqlite3 *db;
	sqlite3_stmt *s;

	buf[0] = '\0';
	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return buf;
}

/* set - change ADDR's state through crmctl's handle; returns *changed */
static int set(struct fx *f, const char *addr, int connected, const char *who)
{
	char err[512];
	int changed = -1;

	assert_int_equal(store_mailbox_set(f->ctl, addr, connected, who, &changed, err, sizeof err),
			 STORE_OK);
	return changed;
}

/* assert_skipped - outcome I and its row: skipped, reason "disconnected mailbox" */
static void assert_skipped(struct fx *f, size_t i)
{
	char sql[256];

	assert_int_equal(f->out[i].skipped, 1);
	assert_string_equal(f->out[i].reason, STORE_DISCONNECTED_REASON);
	snprintf(sql, sizeof sql, "SELECT log || '|' || log_reason || '|' || (thread_id IS NULL) ||"
		 " '|' || subject || '|' || (SELECT count(*) FROM participants WHERE message_id = m.id)"
		 " || '|' || (SELECT count(*) FROM raw WHERE message_id = m.id)"
		 " FROM messages m WHERE msgid = '%s'", f->out[i].msgid);
	assert_string_equal(query(f, sql), "skipped|disconnected mailbox|1||0|0");
}

/* assert_logged - outcome I and its row: logged in a thread */
static void assert_logged(struct fx *f, size_t i)
{
	char sql[256];

	assert_int_equal(f->out[i].skipped, 0);
	snprintf(sql, sizeof sql, "SELECT log || '|' || (thread_id IS NOT NULL) FROM messages"
		 " WHERE msgid = '%s'", f->out[i].msgid);
	assert_string_equal(query(f, sql), "logged|1");
}

/* a disconnected mailbox's mail is skipped; mail with a connected one is not */
static void test_skip_rule(void **state)
{
	struct fx *f = *state;
	const char *const to_alice[] = { "alice@example.com", NULL };
	const char *const to_both[] = { "alice@example.com", "bob@example.com", NULL };

	assert_logged(f, deliver(f, "before@x", "dave@acme.com", "alice@example.com", NULL,
				 to_alice));
	assert_int_equal(set(f, "alice@example.com", 0, "tester"), 1);
	/* only alice inside: skipped, whichever side she is on */
	assert_skipped(f, deliver(f, "in@x", "dave@acme.com", "alice@example.com", NULL,
				  to_alice));
	assert_skipped(f, deliver(f, "out@x", "alice@example.com", "dave@acme.com", NULL, NULL));
	/* bob is connected: in Cc, or only in the envelope */
	assert_logged(f, deliver(f, "cc@x", "dave@acme.com", "alice@example.com", "bob@example.com",
			      to_both));
	assert_logged(f, deliver(f, "env@x", "dave@acme.com", "alice@example.com", NULL, to_both));
	/* no internal participant at all: not concerned */
	assert_logged(f, deliver(f, "ext@x", "dave@acme.com", "zed@other.org", NULL, NULL));
	/* a mailbox of a subdomain is internal too, and connected */
	assert_logged(f, deliver(f, "sub@x", "alice@example.com", "dave@acme.com",
				 "eve@eu.example.com", NULL));
	/* what was logged before stays */
	assert_logged(f, 0);
	assert_string_equal(query(f, "SELECT count(*) FROM messages WHERE log = 'skipped'"), "2");
}

/* the state, the audit and the list; reconnecting logs again */
static void test_state_audit_list(void **state)
{
	struct fx *f = *state;
	char err[512];
	json_t *a, *m;

	assert_logged(f, deliver(f, "a1@x", "dave@acme.com", "alice@example.com", NULL, NULL));
	assert_logged(f, deliver(f, "b1@x", "bob@example.com", "dave@acme.com", NULL, NULL));
	assert_int_equal(set(f, "alice@example.com", 0, "tester"), 1);
	assert_int_equal(set(f, "alice@example.com", 0, "tester"), 0);     /* twice: nothing */
	assert_int_equal(set(f, "alice@example.com", 1, "root (sudo x)"), 1);
	assert_int_equal(set(f, "alice@example.com", 1, "tester"), 0);
	assert_int_equal(set(f, "bob@example.com", 1, "tester"), 0);       /* never disconnected */
	assert_string_equal(query(f, "SELECT group_concat(who || ':' || action || ':' || detail,"
				     " ',') FROM (SELECT * FROM audit ORDER BY id)"),
			    "tester:disconnect:alice@example.com,"
			    "root (sudo x):reconnect:alice@example.com");
	assert_string_equal(query(f, "SELECT count(*) FROM audit a JOIN mailboxes m ON"
				     " m.address = a.detail AND m.changed = a.at"
				     " WHERE a.action = 'reconnect'"), "1");
	assert_logged(f, deliver(f, "a2@x", "dave@acme.com", "alice@example.com", NULL, NULL));

	assert_int_equal(set(f, "bob@example.com", 0, "tester"), 1);
	assert_int_equal(store_mailboxes(f->ctl, NULL, &a, err, sizeof err), STORE_OK);
	assert_int_equal(json_array_size(a), 2);
	m = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(m, "address")), "alice@example.com");
	assert_string_equal(json_string_value(json_object_get(m, "state")), "connected");
	assert_string_equal(json_string_value(json_object_get(m, "by")), "root (sudo x)");
	assert_int_equal(json_integer_value(json_object_get(m, "messages")), 2);
	assert_int_equal(strlen(json_string_value(json_object_get(m, "since"))), 20);
	m = json_array_get(a, 1);
	assert_string_equal(json_string_value(json_object_get(m, "address")), "bob@example.com");
	assert_string_equal(json_string_value(json_object_get(m, "state")), "disconnected");
	assert_string_equal(json_string_value(json_object_get(m, "by")), "tester");
	assert_int_equal(json_integer_value(json_object_get(m, "messages")), 1);
	json_decref(a);

	/* one address: known, unknown */
	assert_int_equal(store_mailboxes(f->ctl, "bob@example.com", &a, err, sizeof err), STORE_OK);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
	assert_int_equal(store_mailboxes(f->ctl, "nobody@example.com", &a, err, sizeof err),
			 STORE_OK);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
}

/* store_mailbox_disconnected_only, as crmctl rules explain asks it */
static void test_disconnected_only(void **state)
{
	struct fx *f = *state;
	const char *raw = "From: <dave@acme.com>\r\nTo: <alice@example.com>\r\n"
			  "Message-ID: <q@x>\r\n\r\nHi\r\n";
	const char *const bob[] = { "bob@example.com" };
	struct store_envelope env = { .rcpts = bob, .n_rcpts = 1 };
	struct mail_record *rec = NULL;
	char err[512];

	assert_int_equal(mail_parse(raw, strlen(raw), NULL, &rec), 0);
	assert_int_equal(store_mailbox_disconnected_only(f->ctl, rec, NULL, err, sizeof err), 0);
	assert_int_equal(set(f, "alice@example.com", 0, "tester"), 1);
	assert_int_equal(store_mailbox_disconnected_only(f->ctl, rec, NULL, err, sizeof err), 1);
	assert_int_equal(store_mailbox_disconnected_only(f->ctl, rec, &env, err, sizeof err), 0);
	mail_record_free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_skip_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_audit_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnected_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
