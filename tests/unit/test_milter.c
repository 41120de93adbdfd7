/*
 * test_milter.c - unit tests for milter/: CIDR ranges, the envelope and
 * direction, the configuration's InternalHosts check, and the spool
 * (write, commit, read back, fail, retry, bad files)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "../../milter/milter_int.h"
#include "../../storage/store.h"
#include "../../mail/mail.h"

/* sin4 - a sockaddr for an IPv4 address */
static struct sockaddr_in sin4(const char *a)
{
	struct sockaddr_in s = { .sin_family = AF_INET };
	assert_int_equal(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

/* sin6 - a sockaddr for an IPv6 address */
static struct sockaddr_in6 sin6(const char *a)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6 };
	assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return s;
}

static void test_cidr_parse(void **state)
{
	struct milter_cidr c;
	assert_int_equal(milter_cidr_parse("127.0.0.0/8", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.bits, 8);
	assert_int_equal(milter_cidr_parse("10.1.2.3", &c), 0);
	assert_int_equal(c.bits, 32);
	assert_int_equal(milter_cidr_parse("::1/128", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(milter_cidr_parse("2001:db8::/32", &c), 0);
	assert_int_equal(milter_cidr_parse("10.1.2.3/0", &c), 0);
	assert_int_equal(c.bits, 0);
	assert_int_equal(milter_cidr_parse("10.300.0.0/16", &c), -1);
	assert_int_equal(milter_cidr_parse("10.0.0.0/33", &c), -1);
	assert_int_equal(milter_cidr_parse("10.0.0.0/", &c), -1);
	assert_int_equal(milter_cidr_parse("10.0.0.0/-1", &c), -1);
	assert_int_equal(milter_cidr_parse("10.0.0.0/8x", &c), -1);
	assert_int_equal(milter_cidr_parse("::1/129", &c), -1);
	assert_int_equal(milter_cidr_parse("example.com", &c), -1);
	assert_int_equal(milter_cidr_parse("", &c), -1);
}

static void test_cidr_match(void **state)
{
	struct milter_cidr l[3];
	assert_int_equal(milter_cidr_parse("10.0.0.0/8", &l[0]), 0);
	assert_int_equal(milter_cidr_parse("192.168.1.128/25", &l[1]), 0);
	assert_int_equal(milter_cidr_parse("2001:db8::/32", &l[2]), 0);
	struct sockaddr_in a = sin4("10.255.1.2"), b = sin4("11.0.0.1"), c = sin4("192.168.1.200"),
			   d = sin4("192.168.1.100");
	assert_true(milter_cidr_match(l, 3, (struct sockaddr *)&a));
	assert_false(milter_cidr_match(l, 3, (struct sockaddr *)&b));
	assert_true(milter_cidr_match(l, 3, (struct sockaddr *)&c));
	assert_false(milter_cidr_match(l, 3, (struct sockaddr *)&d));
	struct sockaddr_in6 e = sin6("2001:db8:1::25"), f = sin6("2001:db9::1"),
			    g = sin6("::ffff:10.9.9.9");
	assert_true(milter_cidr_match(l, 3, (struct sockaddr *)&e));
	assert_false(milter_cidr_match(l, 3, (struct sockaddr *)&f));
	assert_true(milter_cidr_match(l, 3, (struct sockaddr *)&g));	/* IPv4-mapped */
	assert_false(milter_cidr_match(l, 3, NULL));
	assert_true(milter_cidr_match_text(l, 3, "10.1.1.1"));
	assert_false(milter_cidr_match_text(l, 3, "unknown"));
	assert_false(milter_cidr_match_text(l, 0, "10.1.1.1"));
}

static void test_envelope(void **state)
{
	struct milter_env env = { 0 };
	assert_int_equal(milter_env_set_from(&env, "<Dave@ACME.com>"), 0);
	char *norm = mail_addr_normalise("Dave@ACME.com");	/* the parser's rule */
	assert_string_equal(env.mail_from, norm);
	free(norm);
	assert_int_equal(milter_env_set_from(&env, "<>"), 0);
	assert_string_equal(env.mail_from, "");
	assert_int_equal(milter_env_add_rcpt(&env, "<alice@Example.com>", NULL), 0);
	assert_int_equal(milter_env_add_rcpt(&env, "alice@example.com", NULL), 0);	/* repeat */
	assert_int_equal(milter_env_add_rcpt(&env, "<secret@example.com> NOTIFY=NEVER", NULL), 0);
	assert_int_equal(milter_env_add_rcpt(&env, "<postmaster>", NULL), 0);
	assert_int_equal(env.n_rcpts, 3);
	assert_string_equal(env.rcpts[0], "alice@example.com");
	assert_string_equal(env.rcpts[1], "secret@example.com");
	assert_string_equal(env.rcpts[2], "postmaster");
	milter_env_clear(&env);
	assert_int_equal(env.n_rcpts, 0);
	for (int i = 0; i < MILTER_MAX_RCPTS + 5; i++) {
		char a[64];
		snprintf(a, sizeof a, "<u%d@example.com>", i);
		assert_int_equal(milter_env_add_rcpt(&env, a, NULL), 0);
	}
	assert_int_equal(env.n_rcpts, MILTER_MAX_RCPTS);
	assert_int_equal(env.rcpts_dropped, 5);
	milter_env_clear(&env);
}

/* the ReplyAddress recipients: kept apart as given, never recipients, the first tag kept */
static void test_envelope_reply(void **state)
{
	struct milter_env env = { 0 };
	const char *ra = "crm-reply@example.com";

	assert_int_equal(milter_env_add_rcpt(&env, "<bob@client.test>", ra), 0);
	assert_int_equal(milter_env_add_rcpt(&env, "<CRM-Reply+r12.00AB@Example.COM> NOTIFY=NEVER", ra), 0);
	assert_int_equal(milter_env_add_rcpt(&env, "<crm-reply+r13.ffff@example.com>", ra), 0);
	assert_int_equal(milter_env_add_rcpt(&env, "<crm-reply@example.com>", ra), 0);
	assert_int_equal(milter_env_add_rcpt(&env, "<crm-replyx+r1.a@example.com>", ra), 0);
	assert_int_equal(milter_env_add_rcpt(&env, "<crm-reply+r1.a@example.org>", ra), 0);
	assert_int_equal(env.n_rcpts, 3);
	assert_string_equal(env.rcpts[0], "bob@client.test");
	assert_string_equal(env.rcpts[1], "crm-replyx+r1.a@example.com");
	assert_string_equal(env.rcpts[2], "crm-reply+r1.a@example.org");
	assert_int_equal(env.n_reply_raw, 3);
	assert_string_equal(env.reply_raw[0], "<CRM-Reply+r12.00AB@Example.COM>");
	assert_string_equal(env.reply_raw[2], "<crm-reply@example.com>");
	assert_string_equal(env.reply_tag, "r12.00ab");
	milter_env_clear(&env);
	assert_int_equal(milter_env_add_rcpt(&env, "<crm-reply+r12.00ab@example.com>", NULL), 0);
	assert_int_equal(env.n_rcpts, 1);	/* without ReplyAddress, an address as any other */
	assert_null(env.reply_tag);
	milter_env_clear(&env);
}

/* write_conf - a configuration file with TEXT; returns its path (static) */
static const char *write_conf(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/crmmiltXXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_direction(void **state)
{
	char err[512];
	const char *path = write_conf("Domains example.com\nInternalHosts 10.0.0.0/8\n"
				      "OriginatingName ORIGINATING\n");
	struct milter_cfg *cfg = milter_cfg_load(path, NULL, err, sizeof err);
	assert_non_null(cfg);
	struct sockaddr_in in = sin4("10.2.3.4"), out = sin4("198.51.100.7");
	assert_int_equal(milter_originated(cfg, "alice", NULL, (struct sockaddr *)&out), 1);
	assert_int_equal(milter_originated(cfg, "", "smtpd", (struct sockaddr *)&out), 0);
	assert_int_equal(milter_originated(cfg, NULL, "originating", (struct sockaddr *)&out), 1);
	assert_int_equal(milter_originated(cfg, NULL, "smtpd", (struct sockaddr *)&in), 1);
	assert_int_equal(milter_originated(cfg, NULL, NULL, NULL), 0);
	assert_string_equal(milter_direction_name(STORE_OUTBOUND), "outbound");
	assert_string_equal(milter_direction_name(STORE_INTERNAL), "internal");
	assert_string_equal(milter_direction_name(STORE_INBOUND), "inbound");
	milter_cfg_put(cfg);
	unlink(path);
}

static void test_cfg_errors_and_overrides(void **state)
{
	char err[512], want[600];
	const char *path = write_conf("Domains example.com\n# hosts\nInternalHosts ::1/128 bogus/8\n");
	assert_null(milter_cfg_load(path, NULL, err, sizeof err));
	snprintf(want, sizeof want, "%s:3: not an address or CIDR range: bogus/8", path);
	assert_string_equal(err, want);
	unlink(path);
	path = write_conf("Domains example.com\nSocket inet:1@127.0.0.1\n");
	struct milter_overrides ov = { .socket = "unix:/tmp/x.sock", .user = "nobody" };
	struct milter_cfg *cfg = milter_cfg_load(path, &ov, err, sizeof err);
	assert_non_null(cfg);
	assert_string_equal(cfg->conf.socket, "unix:/tmp/x.sock");
	assert_string_equal(cfg->conf.user, "nobody");
	assert_int_equal(cfg->n_hosts, 2);	/* the default loopback ranges */
	milter_cfg_install(cfg);
	unsigned g = milter_cfg_generation();
	struct milter_cfg *ref = milter_cfg_get();
	assert_ptr_equal(ref, cfg);
	struct milter_cfg *next = milter_cfg_load(path, NULL, err, sizeof err);
	milter_cfg_install(next);	/* the old one lives on in ref */
	assert_int_equal(milter_cfg_generation(), g + 1);
	assert_string_equal(ref->conf.socket, "unix:/tmp/x.sock");
	milter_cfg_put(ref);
	unlink(path);
}

/* make_spool - a fresh spool in a temporary directory */
static struct spool *make_spool(char *dir)
{
	char err[512];
	struct spool *sp;
	strcpy(dir, "/tmp/crmspoolXXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(spool_open(dir, 1, &sp, err, sizeof err), 0);
	return sp;
}

/* remove_spool - rm -r of the temporary spool */
static void remove_spool(struct spool *sp, const char *dir)
{
	char cmd[600];
	spool_close(sp);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_spool_roundtrip(void **state)
{
	char dir[64], err[512], name[256];
	struct spool *sp = make_spool(dir);
	struct spool_file *f;
	assert_int_equal(spool_begin(sp, "ABC-123", &f, err, sizeof err), 0);
	const char *msg = "Subject: hi\r\n\r\nbody\r\n";
	assert_int_equal(spool_write(f, msg, 15), 0);
	assert_int_equal(spool_write(f, msg + 15, strlen(msg) - 15), 0);
	assert_int_equal(spool_written(f), strlen(msg));
	const char *rcpts[] = { "a@example.com", "odd\nname%@x" };
	struct spool_env env = {
		.queue_id = "ABC-123", .mail_from = "", .rcpts = rcpts, .n_rcpts = 2,
		.client_addr = "192.0.2.1", .auth_authen = "alice", .message_id = "<m@x>",
		.arrival = 1700000000, .size = 99, .originated = 1, .truncated = 1,
	};
	assert_int_equal(spool_commit(f, &env, name, sizeof name, err, sizeof err), 0);
	assert_non_null(strstr(name, ".ABC123"));
	assert_true(spool_bytes(sp) > strlen(msg));

	struct spool_list l;
	assert_int_equal(spool_list(sp, SPOOL_NEW, &l, err, sizeof err), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.names[0], name);
	spool_list_free(&l);
	struct spool_msg m;
	assert_int_equal(spool_read(sp, SPOOL_NEW, name, &m, err, sizeof err), 0);
	assert_int_equal(m.raw_len, strlen(msg));
	assert_memory_equal(m.raw, msg, m.raw_len);
	assert_string_equal(m.env.queue_id, "ABC-123");
	assert_string_equal(m.env.mail_from, "");
	assert_int_equal(m.env.n_rcpts, 2);
	assert_string_equal(m.env.rcpts[1], "odd\nname%@x");	/* escaped and back */
	assert_string_equal(m.env.auth_authen, "alice");
	assert_null(m.env.daemon_name);
	assert_int_equal(m.env.arrival, 1700000000);
	assert_int_equal(m.env.originated, 1);
	assert_int_equal(m.env.truncated, 1);
	assert_int_equal(m.env.headers_only, 0);
	spool_msg_free(&m);

	assert_int_equal(spool_fail(sp, name, "bad\nthing"), 0);
	char reason[256];
	assert_string_equal(spool_reason(sp, name, reason, sizeof reason), "bad thing");
	assert_int_equal(spool_list(sp, SPOOL_FAILED, &l, err, sizeof err), 0);
	assert_int_equal(l.n, 1);	/* the .reason file is not listed */
	spool_list_free(&l);
	assert_int_equal(spool_retry(sp, name), 0);
	assert_string_equal(spool_reason(sp, name, reason, sizeof reason), "");
	assert_int_equal(spool_done(sp, name), 0);
	assert_int_equal(spool_recount(sp), 0);
	assert_int_equal(spool_done(sp, "../etc/passwd"), -1);
	remove_spool(sp, dir);
}

static void test_spool_abandon_and_clean(void **state)
{
	char dir[64], err[512], path[600];
	struct spool *sp = make_spool(dir);
	struct spool_file *f, *g;
	assert_int_equal(spool_begin(sp, NULL, &f, err, sizeof err), 0);
	assert_int_equal(spool_begin(sp, NULL, &g, err, sizeof err), 0);
	spool_write(f, "x", 1);
	spool_abandon(f);	/* an aborted transaction leaves nothing */
	struct spool_list l;
	assert_int_equal(spool_list(sp, SPOOL_TMP, &l, err, sizeof err), 0);
	assert_int_equal(l.n, 1);
	spool_list_free(&l);
	assert_int_equal(spool_clean_tmp(sp), 1);	/* what a crash leaves behind */
	spool_abandon(g);	/* after the "crash": frees what the process held (the file is gone) */
	assert_int_equal(spool_lock(sp, err, sizeof err), 0);
	struct spool *sp2;
	assert_int_equal(spool_open(dir, 0, &sp2, err, sizeof err), 0);
	assert_int_equal(spool_lock(sp2, err, sizeof err), -1);
	assert_non_null(strstr(err, "another crmilter uses this spool"));
	spool_close(sp2);
	remove_spool(sp, dir);
	snprintf(path, sizeof path, "%s/none", dir);
	assert_int_equal(spool_open(path, 0, &sp2, err, sizeof err), -1);
}

static void test_spool_bad_files(void **state)
{
	char dir[64], err[512], path[600];
	struct spool *sp = make_spool(dir);
	struct spool_msg m;
	static const char *const bad[] = {
		"",
		"not a spool file\n",
		"CRMSPOOL1 00000000000000000000\nSubject: x\r\n",		/* unfinished */
		"CRMSPOOL1 00000000000000009999\nSubject: x\r\n",		/* past the end */
		"CRMSPOOL1 00000000000000000031\nqueue-id A\nnovalue\n",	/* line without a value */
		"CRMSPOOL1 00000000000000000031\nqueue-id A",			/* no newline */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(path, sizeof path, "%s/new/bad%zu", dir, i);
		FILE *f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		snprintf(path, sizeof path, "bad%zu", i);
		assert_int_equal(spool_read(sp, SPOOL_NEW, path, &m, err, sizeof err), -1);
	}
	assert_int_equal(spool_read(sp, SPOOL_NEW, "missing", &m, err, sizeof err), -1);
	assert_int_equal(spool_read(sp, SPOOL_NEW, "../x", &m, err, sizeof err), -1);
	remove_spool(sp, dir);
}

int main(void)
{
	log_open("test_milter", 0, 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_match),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_envelope_reply),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_cfg_errors_and_overrides),
		cmocka_unit_test(test_spool_roundtrip),
		cmocka_unit_test(test_spool_abandon_and_clean),
		cmocka_unit_test(test_spool_bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
