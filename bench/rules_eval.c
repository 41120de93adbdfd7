/*
 * rules_eval.c - bench/rules.sh's timer: the cost of rules_eval() per message
 *
 * usage: rules_eval MAILDIR OWN-DOMAIN ROUNDS RULES...   ("-" = built-in only)
 *
 * Parses every message of MAILDIR once (mail_parse), then for each rules
 * file evaluates every message ROUNDS times and prints one line
 * "RULES  N rules  NS ns/message".  Files are timed interleaved, round by
 * round, so that they see the same machine state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../rules/rules.h"

struct msg {
	struct mail_record *rec;
	char *raw;
	size_t len;
};

static const char *own;

/* internal - rules_input.is_internal: the address is in OWN */
static int internal(const char *addr, void *arg)
{
	const char *at = strrchr(addr, '@');

	(void)arg;
	return at && strcmp(at + 1, own) == 0;
}

/* now_ns - monotonic time in nanoseconds */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* load - parse every message of the source at PATH into *out; returns the count */
static size_t load(const char *path, struct msg **out)
{
	struct mail_source *src;
	struct mail_item it;
	char err[1024];
	size_t n = 0;
	int r;

	if (mail_source_open(path, &src, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	while ((r = mail_source_next(src, &it, err, sizeof err)) != 0) {
		if (r < 0)
			continue;
		*out = realloc(*out, (n + 1) * sizeof **out);
		(*out)[n].raw = malloc(it.len + 1);
		memcpy((*out)[n].raw, it.data, it.len);
		(*out)[n].len = it.len;
		if (mail_parse((*out)[n].raw, it.len, NULL, &(*out)[n].rec) == 0)
			n++;
	}
	mail_source_close(src);
	return n;
}

/* round - evaluate every message once with R; returns the nanoseconds spent */
static double round_of(struct rules *r, const struct msg *m, size_t n)
{
	struct rules_decision d;
	double t0 = now_ns();

	for (size_t i = 0; i < n; i++) {
		const char *from = m[i].rec->from.n ? m[i].rec->from.v[0].addr : NULL;
		struct rules_input in = {
			.rec = m[i].rec, .headers = m[i].raw, .headers_len = m[i].rec->header_len,
			.direction = from && internal(from, NULL) ? RULES_OUTBOUND : RULES_INBOUND,
			.is_internal = internal,
		};
		if (rules_eval(r, &in, &d) == 0)
			rules_decision_free(&d);
	}
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	struct msg *m = NULL;
	struct rules **r;
	double *total;
	char err[65536];
	int rounds, k, nr = argc - 4;
	size_t n;

	if (argc < 5) {
		fprintf(stderr, "usage: rules_eval MAILDIR OWN-DOMAIN ROUNDS RULES...\n");
		return 2;
	}
	own = argv[2];
	rounds = atoi(argv[3]);
	mail_init();
	n = load(argv[1], &m);
	r = calloc((size_t)nr, sizeof *r);
	total = calloc((size_t)nr, sizeof *total);
	for (k = 0; k < nr; k++)
		if (rules_load(strcmp(argv[4 + k], "-") ? argv[4 + k] : NULL, &r[k], err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	for (k = 0; k < nr; k++)
		round_of(r[k], m, n);             /* warm up */
	for (int i = 0; i < rounds; i++)
		for (k = 0; k < nr; k++)
			total[k] += round_of(r[k], m, n);
	for (k = 0; k < nr; k++)
		printf("%s %zu %.0f\n", argv[4 + k], rules_count(r[k]), total[k] / rounds / (double)n);
	printf("messages %zu\n", n);
	return 0;
}
