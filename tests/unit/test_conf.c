/*
 * test_conf.c - unit tests for common/: the crmilter.conf reader and helpers
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

#include "../../common/common.h"

/* write_tmp - write TEXT to a new temporary file; returns its path (static) */
static const char *write_tmp(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/crmconfXXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults(void **state)
{
	struct conf c;
	conf_defaults(&c);
	assert_string_equal(c.database, "/var/lib/crmilter/crmilter.db");
	assert_int_equal(c.raw, CONF_RAW_FULL);
	assert_int_equal(c.max_message_size, 25u * 1024 * 1024);
	assert_int_equal(c.domains.n, 0);
	assert_int_equal(c.internal_hosts.n, 2);
	conf_free(&c);
}

/* a relative path is taken from the configuration's folder, not the current one */
static void test_relative_paths(void **state)
{
	char dir[] = "/tmp/crmconfdirXXXXXX", path[128], want[160], err[256];
	struct conf c;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/c.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Database sub/x.db\nRulesFile my.rules\nSpoolDirectory /abs/spool\n", f);
	fclose(f);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(conf_load(path, &c, err, sizeof err), 0);
	snprintf(want, sizeof want, "%s/sub/x.db", dir);
	assert_string_equal(c.database, want);
	snprintf(want, sizeof want, "%s/my.rules", dir);
	assert_string_equal(c.rules, want);
	assert_int_equal(c.rules_given, 1);
	assert_string_equal(c.dir, dir);	/* what the viewer shows rule files relative to */
	assert_string_equal(c.spool, "/abs/spool");
	conf_free(&c);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Domains example.com\n", f);
	fclose(f);
	assert_int_equal(conf_load(path, &c, err, sizeof err), 0);
	snprintf(want, sizeof want, "%s/rules", dir);
	assert_string_equal(c.rules, want);	/* the default: beside the file */
	assert_int_equal(c.rules_given, 0);
	conf_free(&c);
	conf_defaults(&c);
	assert_string_equal(c.rules, "/etc/crmilter/rules");
	conf_free(&c);
	unlink(path);
	rmdir(dir);
}

static void test_values_and_lists(void **state)
{
	const char *p = write_tmp("# comment\n\n  Database /tmp/x.db  \nDomains Example.com, example.net\n"
				  "domains corp.example.org\nRawStorage headers\nMaxMessageSize 10M\n");
	struct conf c;
	char err[256];
	assert_int_equal(conf_load(p, &c, err, sizeof err), 0);
	assert_string_equal(c.database, "/tmp/x.db");
	assert_int_equal(c.domains.n, 3);
	assert_string_equal(c.domains.v[0], "example.com");
	assert_string_equal(c.domains.v[2], "corp.example.org");
	assert_int_equal(c.raw, CONF_RAW_HEADERS);
	assert_int_equal(c.max_message_size, 10u * 1024 * 1024);
	assert_true(conf_is_own_domain(&c, "example.com"));
	assert_true(conf_is_own_domain(&c, "mail.example.net"));
	assert_false(conf_is_own_domain(&c, "badexample.com"));
	assert_false(conf_is_own_domain(&c, "example.co"));
	conf_free(&c);
	unlink(p);
}

/* expect_error - loading TEXT fails with exactly "FILE:" followed by WANT */
static void expect_error(const char *text, const char *want)
{
	const char *p = write_tmp(text);
	struct conf c;
	char err[256], full[256];
	assert_int_equal(conf_load(p, &c, err, sizeof err), -1);
	snprintf(full, sizeof full, "%s:%s", p, want);
	assert_string_equal(err, full);
	unlink(p);
}

static void test_errors_name_file_and_line(void **state)
{
	expect_error("Database /x\nNoSuchKey 1\n", "2: unknown key: NoSuchKey 1");
	expect_error("\n\nRawStorage all\n", "3: expected full, headers or none: RawStorage all");
	expect_error("Database\n", "1: missing value: Database");
	expect_error("Database /a\nDatabase /b\n", "2: key given twice: Database /b");
	expect_error("Domains exa_mple.com\n", "1: not a domain name: Domains exa_mple.com");
	expect_error("MaxMessageSize lots\n", "1: expected a size such as 25M, 512k or 1G: MaxMessageSize lots");
}

/* a comment after a value, as INSTALL.md writes them, is never part of it */
static void test_trailing_comments(void **state)
{
	const char *p = write_tmp("Domains example.com  # your own mail domains\n"
				  "OriginatingName ORIGINATING\t# submission's daemon_name\n"
				  "ViewerSessionKeyFile /tmp/viewer.key   # created (0600) when missing\n"
				  "Database /srv/mail#1/crm.db\n"
				  "MaxMessageSize 10M # bigger ones are cut\n");
	struct conf c;
	char err[256];

	assert_int_equal(conf_load(p, &c, err, sizeof err), 0);
	assert_int_equal(c.domains.n, 1);
	assert_string_equal(c.domains.v[0], "example.com");
	assert_string_equal(c.originating_name, "ORIGINATING");
	assert_string_equal(c.viewer_session_key, "/tmp/viewer.key");
	assert_string_equal(c.database, "/srv/mail#1/crm.db");
	assert_int_equal(c.max_message_size, 10u * 1024 * 1024);
	conf_free(&c);
	unlink(p);
	expect_error("OriginatingName # nothing but a comment\n",
		     "1: missing value: OriginatingName # nothing but a comment");
}

static void test_missing_files(void **state)
{
	struct conf c;
	char err[256];
	assert_int_equal(conf_load("/nonexistent/crm.conf", &c, err, sizeof err), -1);
	assert_string_equal(err, "/nonexistent/crm.conf: No such file or directory");
}

static void test_sizes_and_dates(void **state)
{
	uint64_t v;
	int64_t t;
	char buf[32];
	assert_int_equal(parse_size("512k", &v), 0);
	assert_int_equal(v, 524288);
	assert_int_equal(parse_size("1G", &v), 0);
	assert_int_equal(v, 1073741824ULL);
	assert_int_equal(parse_size("12x", &v), -1);
	assert_int_equal(parse_size("-1", &v), -1);
	assert_int_equal(parse_date("2025-03-04", &t), 0);
	assert_int_equal(t, 1741046400);
	assert_int_equal(parse_date("2025-03-04T10:20:30Z", &t), 0);
	assert_string_equal(format_utc(t, buf, sizeof buf), "2025-03-04 10:20:30");
	assert_int_equal(parse_date("2025-13-45", &t), -1);
	assert_int_equal(parse_date("yesterday", &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_and_lists),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_trailing_comments),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_sizes_and_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
