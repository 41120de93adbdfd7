/*
 * test_mail_source.c - unit tests for mail/source.c: files, mbox, Maildir
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../mail/mail.h"

static char dir[64];

/* put - write TEXT (LEN bytes) to DIR/NAME */
static void put(const char *name, const char *text, size_t len)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/crmsrcXXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

/* sub - DIR/NAME in a static buffer */
static const char *sub(const char *name)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

static const char MBOX[] =
	"From alice@example.com Thu Jan  2 10:00:00 2025\n"
	"Subject: one\n\nFirst body.\n>From here on, escaped.\n>>From stays quoted once.\n\n"
	"From bob@example.com Fri Jan  3 11:30:00 2025\n"
	"Subject: two\n\nSecond body.\n";

static void test_mbox_split_and_unescape(void **state)
{
	put("box", MBOX, sizeof MBOX - 1);
	struct mail_source *src;
	struct mail_item it;
	char err[256];
	assert_int_equal(mail_source_open(sub("box"), &src, err, sizeof err), 0);

	assert_int_equal(mail_source_next(src, &it, err, sizeof err), 1);
	const char one[] = "Subject: one\n\nFirst body.\nFrom here on, escaped.\n>From stays quoted once.\n";
	assert_int_equal(it.len, sizeof one - 1);
	assert_memory_equal(it.data, one, it.len);
	assert_int_equal(it.offset, 0);
	assert_int_equal(it.envelope_date, 1735812000);	/* 2025-01-02 10:00:00 UTC */

	assert_int_equal(mail_source_next(src, &it, err, sizeof err), 1);
	assert_int_equal(it.len, strlen("Subject: two\n\nSecond body.\n"));
	assert_memory_equal(it.data, "Subject: two\n\nSecond body.\n", it.len);
	assert_int_equal(it.offset, (int64_t)(strstr(MBOX, "From bob") - MBOX));

	assert_int_equal(mail_source_next(src, &it, err, sizeof err), 0);
	uint64_t done, total;
	mail_source_progress(src, &done, &total);
	assert_int_equal(done, total);
	assert_int_equal(total, sizeof MBOX - 1);
	mail_source_close(src);
}

static void test_maildir_reads_cur_and_new_not_tmp(void **state)
{
	char path[256];
	const char *subs[] = { "md", "md/cur", "md/new", "md/tmp", "md/.hidden" };
	for (size_t i = 0; i < 5; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	put("md/cur/2:2,S", "Subject: b\n\nb\n", 14);
	put("md/cur/1:2,S", "Subject: a\n\na\n", 14);
	put("md/new/3", "Subject: c\n\nc\n", 14);
	put("md/tmp/4", "Subject: partial\n\n", 18);

	struct mail_source *src;
	struct mail_item it;
	char err[256];
	assert_int_equal(mail_source_open(sub("md"), &src, err, sizeof err), 0);
	const char *want[] = { "Subject: a", "Subject: b", "Subject: c" };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(mail_source_next(src, &it, err, sizeof err), 1);
		assert_memory_equal(it.data, want[i], 10);
		assert_int_equal(it.offset, -1);
		assert_non_null(strstr(it.origin, i < 2 ? "/cur/" : "/new/"));
	}
	assert_int_equal(mail_source_next(src, &it, err, sizeof err), 0);
	mail_source_close(src);
}

static void test_empty_file_is_reported_and_run_goes_on(void **state)
{
	char path[256];
	snprintf(path, sizeof path, "%s/f", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	put("f/a.eml", "", 0);
	put("f/b.eml", "Subject: b\n\nbody\n", 17);
	struct mail_source *src;
	struct mail_item it;
	char err[256];
	assert_int_equal(mail_source_open(sub("f"), &src, err, sizeof err), 0);
	assert_int_equal(mail_source_next(src, &it, err, sizeof err), -1);
	assert_non_null(strstr(err, "a.eml: empty file"));
	assert_int_equal(mail_source_next(src, &it, err, sizeof err), 1);
	assert_int_equal(it.len, 17);
	assert_int_equal(mail_source_next(src, &it, err, sizeof err), 0);
	mail_source_close(src);
}

static void test_cr_only_file_gets_lf_lines(void **state)
{
	const char cr[] = "From a@b Thu Jan  2 10:00:00 2025\rSubject: x\r\rbody\r";
	put("cr", cr, sizeof cr - 1);
	struct mail_source *src;
	struct mail_item it;
	char err[256];
	assert_int_equal(mail_source_open(sub("cr"), &src, err, sizeof err), 0);
	assert_int_equal(mail_source_next(src, &it, err, sizeof err), 1);
	assert_int_equal(it.len, strlen("Subject: x\n\nbody\n"));
	assert_memory_equal(it.data, "Subject: x\n\nbody\n", it.len);
	assert_int_equal(mail_source_next(src, &it, err, sizeof err), 0);
	mail_source_close(src);
}

static void test_looks_like_message(void **state)
{
	assert_true(mail_looks_like_message("Subject: x\n", 11));
	assert_true(mail_looks_like_message("\r\nFrom: a@b\n", 13));
	assert_true(mail_looks_like_message("From a@b date\n", 14));
	assert_true(mail_looks_like_message("Subject : obsolete\n", 19));
	assert_false(mail_looks_like_message("a\n", 2));
	assert_false(mail_looks_like_message("{\"json\": 1}", 11));
	assert_false(mail_looks_like_message(": no name\n", 10));
	assert_false(mail_looks_like_message("", 0));
}

/* rss_file_kb - this process's resident file-backed memory, from /proc */
static long rss_file_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "RssFile: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* a big mbox is read without keeping what was read resident */
static void test_big_mbox_does_not_stay_resident(void **state)
{
	static char msg[64 * 1024];
	const size_t n_msgs = 2560;	/* 160 MB */
	char path[256];
	snprintf(path, sizeof path, "%s/big", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	memset(msg, 'x', sizeof msg);
	for (size_t i = 0; i < sizeof msg; i += 64)
		msg[i] = '\n';
	for (size_t i = 0; i < n_msgs; i++) {
		fprintf(f, "From a@b Thu Jan  2 10:00:00 2025\nSubject: %zu\n", i);
		assert_int_equal(fwrite(msg, 1, sizeof msg, f), sizeof msg);
		fputc('\n', f);
	}
	fclose(f);
	struct mail_source *src;
	struct mail_item it;
	char err[256];
	size_t got = 0;
	long peak = 0;
	assert_int_equal(mail_source_open(path, &src, err, sizeof err), 0);
	while (mail_source_next(src, &it, err, sizeof err) == 1) {
		got++;
		long kb = rss_file_kb();
		if (kb > peak)
			peak = kb;
	}
	assert_int_equal(got, n_msgs);
	mail_source_close(src);
	if (peak < 0)
		skip();	/* no /proc */
	assert_true(peak < 120 * 1024);	/* the file is 160 MB; 64 MB may stay mapped */
}

static void test_missing_path(void **state)
{
	struct mail_source *src;
	char err[256];
	assert_int_equal(mail_source_open("/nonexistent/mbox", &src, err, sizeof err), -1);
	assert_string_equal(err, "/nonexistent/mbox: No such file or directory");
}

/* the mime4j mbox against its expected split, when ../shared/corpus is here;
 * the expected parts keep the blank separator line that mboxrd readers drop */
static void test_shared_corpus_mbox_split(void **state)
{
	const char *base = "../shared/corpus/mime4j/mbox/mbox.rlug";
	if (access(base, R_OK) != 0)
		skip();
	struct mail_source *src;
	struct mail_item it;
	char err[256];
	assert_int_equal(mail_source_open(base, &src, err, sizeof err), 0);
	for (int i = 0; i < 5; i++) {
		char path[256];
		snprintf(path, sizeof path, "%s-%d", base, i);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		static char want[65536];
		size_t n = fread(want, 1, sizeof want, f);
		fclose(f);
		assert_int_equal(mail_source_next(src, &it, err, sizeof err), 1);
		size_t expect = i < 4 ? n - 1 : n;
		assert_int_equal(it.len, expect);
		assert_memory_equal(it.data, want, expect);
	}
	assert_int_equal(mail_source_next(src, &it, err, sizeof err), 0);
	mail_source_close(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mbox_split_and_unescape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maildir_reads_cur_and_new_not_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file_is_reported_and_run_goes_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cr_only_file_gets_lf_lines, setup, teardown),
		cmocka_unit_test(test_looks_like_message),
		cmocka_unit_test_setup_teardown(test_big_mbox_does_not_stay_resident, setup, teardown),
		cmocka_unit_test(test_missing_path),
		cmocka_unit_test(test_shared_corpus_mbox_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
