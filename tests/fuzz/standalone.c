/*
 * standalone.c - main() for the fuzz targets outside libFuzzer
 *
 * usage: fuzz_NAME [-t MS] FILE|DIR...
 *
 * Feeds every file named (and every file directly inside a folder named)
 * to LLVMFuzzerTestOneInput, one at a time, in sorted order.  Prints one
 * line per input and exits 1 when an input took longer than MS
 * milliseconds (default 1000: the fuzzing "hang" limit); a crash or a
 * sanitizer report ends the process as it would under libFuzzer.  This is
 * how `make test` replays tests/fuzz/regressions/ and the seeds.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../../common/common.h"
#include "fuzz.h"

static long limit_ms = 1000;
static int slow;

/* now_ms - a monotonic clock in milliseconds */
static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* run_file - feed one file to the target; 0, or -1 when it cannot be read */
static int run_file(const char *path)
{
	size_t len;
	char *data = read_file(path, (size_t)64 << 20, &len);
	if (!data) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	double t0 = now_ms();
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	double ms = now_ms() - t0;
	free(data);
	if (ms > (double)limit_ms) {
		printf("SLOW %s: %.0f ms (limit %ld ms)\n", path, ms, limit_ms);
		slow = 1;
	} else {
		printf("ok %s (%zu bytes, %.1f ms)\n", path, len, ms);
	}
	fflush(stdout);
	return 0;
}

/* name_cmp - qsort order of file names */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* run_dir - feed every regular file directly inside DIR; 0 or -1 */
static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, name_cmp);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(path) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int i = 1, rc = 0;
	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		limit_ms = atol(argv[2]);
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s [-t MS] FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)	/* the target's set-up, not timed */
		LLVMFuzzerInitialize(&argc, &argv);
	for (; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			rc = 2;
		} else if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) < 0 : run_file(argv[i]) < 0) {
			rc = 2;
		}
	}
	return rc ? rc : slow;
}
