/*
 * util.c - scratch files and byte touching for the fuzz targets
 *
 * fuzz_dir() makes one private folder per process (removed at exit with
 * everything in it); fuzz_put_file() writes an input there for the
 * readers that take a path; fuzz_consume() reads every byte of a result,
 * so a sanitizer sees an out-of-bounds pointer or length at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

volatile unsigned fuzz_sink;

static char scratch[4096];
static pid_t scratch_owner;

/* rm_entry - nftw callback: remove one file or folder */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* remove_scratch - atexit: remove the scratch folder (only in the process that made it) */
static void remove_scratch(void)
{
	if (scratch[0] && scratch_owner == getpid())
		nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* fuzz_dir - see fuzz.h */
const char *fuzz_dir(void)
{
	if (scratch[0])
		return scratch;
	const char *t = getenv("TMPDIR");
	snprintf(scratch, sizeof scratch, "%s/crmfuzz.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(scratch)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	scratch_owner = getpid();
	atexit(remove_scratch);
	return scratch;
}

/* fuzz_put_file - see fuzz.h */
const char *fuzz_put_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		abort();
	}
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
			abort();
		}
		p += w;
		len -= (size_t)w;
	}
	close(fd);
	return path;
}

/* fuzz_consume - see fuzz.h */
unsigned fuzz_consume(const void *p, size_t len)
{
	const unsigned char *b = p;
	unsigned h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* fuzz_consume_str - see fuzz.h */
unsigned fuzz_consume_str(const char *s)
{
	return s ? fuzz_consume(s, strlen(s)) : 0;
}
