/*
 * test_conf_retention.c - unit tests for the Retention key of crmilter.conf
 * (common/conf.c): forever by default, days, weeks and years, and the
 * errors that name file and line
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

/* load - load "Retention VALUE" from a temporary file; 0 or -1, err filled */
static int load(const char *value, struct conf *c, char *err, size_t errlen, char *path)
{
	FILE *f;
	int fd, rc;

	strcpy(path, "/tmp/crmretXXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "Domains example.com\nRetention %s\n", value);
	fclose(f);
	rc = conf_load(path, c, err, errlen);
	unlink(path);
	return rc;
}

/* days_of - the retention_days VALUE gives (it must load) */
static int days_of(const char *value)
{
	struct conf c;
	char err[256], path[64];
	int d;

	assert_int_equal(load(value, &c, err, sizeof err, path), 0);
	d = c.retention_days;
	conf_free(&c);
	return d;
}

/* without the key mail is kept forever */
static void test_default_forever(void **state)
{
	struct conf c;

	conf_defaults(&c);
	assert_int_equal(c.retention_days, 0);
	conf_free(&c);
}

/* days, weeks, years (365 days), forever, any case */
static void test_units(void **state)
{
	assert_int_equal(days_of("730d"), 730);
	assert_int_equal(days_of("12w"), 84);
	assert_int_equal(days_of("2y"), 730);
	assert_int_equal(days_of("2Y"), 730);
	assert_int_equal(days_of("forever"), 0);
	assert_int_equal(days_of("1d"), 1);
}

/* a bad value is refused with FILE:LINE and what is expected */
static void test_errors(void **state)
{
	static const char *const bad[] = { "12x", "0d", "d", "730", "7 d", "-3d", "101y", "36501d" };
	struct conf c;
	char err[256], path[64], want[128];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(load(bad[i], &c, err, sizeof err, path), -1);
		snprintf(want, sizeof want, "%s:2: expected", path);
		assert_non_null(strstr(err, want));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_forever),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
