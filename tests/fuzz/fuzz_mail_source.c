/*
 * fuzz_mail_source.c - fuzz target: the mbox / Maildir / message-file reader
 *
 * The input is written to disk and read back with mail_source_open() and
 * mail_source_next() until the end, as crmctl import does:
 *   - an input starting with "MAILDIR\n" becomes a Maildir: the rest is
 *     cut at each "\n\x01\n" into up to 16 message files, alternately in
 *     cur/ and new/ (a file may be empty);
 *   - any other input is one file (an mbox when it starts with "From ",
 *     else one message).
 * Every message handed out is read whole and checked to lie inside what
 * the reader owns; progress must never exceed the total.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../mail/mail.h"
#include "fuzz.h"

#define MAX_FILES 16
#define MAILDIR_MAGIC "MAILDIR\n"
#define FILE_SEP "\n\x01\n"

/* memmem_sep - the next separator in [p, end), or NULL */
static const char *memmem_sep(const char *p, const char *end)
{
	size_t sl = strlen(FILE_SEP);
	for (; p + sl <= end; p++)
		if (memcmp(p, FILE_SEP, sl) == 0)
			return p;
	return NULL;
}

/* make_maildir - write the Maildir form of the input under ROOT; returns how many files */
static int make_maildir(const char *root, const char *p, const char *end, char paths[][4200])
{
	char dir[4200];
	const char *subs[] = { "cur", "new", "tmp" };
	mkdir(root, 0700);
	for (int i = 0; i < 3; i++) {
		snprintf(dir, sizeof dir, "%s/%s", root, subs[i]);
		mkdir(dir, 0700);
	}
	int n = 0;
	while (n < MAX_FILES) {
		const char *sep = memmem_sep(p, end);
		const char *stop = sep ? sep : end;
		snprintf(paths[n], sizeof paths[n], "%s/%s/17000000%02d.M1P1.fuzz%s", root,
			 subs[n % 2], n, n % 2 ? "" : ":2,S");
		fuzz_put_file(paths[n], p, (size_t)(stop - p));
		n++;
		if (!sep)
			break;
		p = sep + strlen(FILE_SEP);
	}
	return n;
}

/* LLVMFuzzerTestOneInput - see fuzz.h */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char paths[MAX_FILES][4200];
	char root[4096], err[1024];
	const char *in = (const char *)data;
	int n_files = 0;
	struct mail_source *src = NULL;

	if (size >= strlen(MAILDIR_MAGIC) && memcmp(in, MAILDIR_MAGIC, strlen(MAILDIR_MAGIC)) == 0) {
		snprintf(root, sizeof root, "%s/Maildir", fuzz_dir());
		n_files = make_maildir(root, in + strlen(MAILDIR_MAGIC), in + size, paths);
	} else {
		snprintf(root, sizeof root, "%s/input", fuzz_dir());
		fuzz_put_file(root, data, size);
	}
	if (mail_source_open(root, &src, err, sizeof err) == 0) {
		struct mail_item item;
		unsigned h = 0;
		int rc;
		for (int guard = 0; guard < 1000000; guard++) {
			rc = mail_source_next(src, &item, err, sizeof err);
			if (rc == 0)
				break;
			if (rc < 0) {
				h ^= fuzz_consume_str(err);
				continue;
			}
			if (item.len > size)
				abort();	/* a message larger than the input */
			h ^= fuzz_consume(item.data, item.len) ^ fuzz_consume_str(item.origin);
			h ^= (unsigned)mail_looks_like_message(item.data, item.len);
			h ^= (unsigned)item.offset ^ (unsigned)item.envelope_date;
		}
		uint64_t done, total;
		mail_source_progress(src, &done, &total);
		if (done > total)
			abort();
		fuzz_sink ^= h;
		mail_source_close(src);
	}
	for (int i = 0; i < n_files; i++)
		unlink(paths[i]);
	return 0;
}
