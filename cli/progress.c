/*
 * progress.c - a one-line progress display for long commands
 *
 * Shown on stderr only when stderr is a terminal: count, rate, percentage
 * and ETA, redrawn at most ten times a second.  Elsewhere it prints nothing,
 * so scripts and logs stay clean.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct progress {
	int tty;
	double start;
	double last;
	int drawn;
};

/* now - monotonic seconds */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* progress_new - a progress display; free with progress_free() */
struct progress *progress_new(void)
{
	struct progress *p = xcalloc(1, sizeof *p);
	p->tty = isatty(STDERR_FILENO);
	p->start = p->last = now();
	return p;
}

/* progress_update - redraw with COUNT messages and DONE of TOTAL bytes read */
void progress_update(struct progress *p, uint64_t count, uint64_t done, uint64_t total)
{
	if (!p->tty)
		return;
	double t = now();
	if (t - p->last < 0.1 && done < total)
		return;
	p->last = t;
	double elapsed = t - p->start;
	double rate = elapsed > 0 ? (double)count / elapsed : 0;
	double frac = total ? (double)done / (double)total : 0;
	long eta = frac > 0.001 ? (long)(elapsed / frac - elapsed) : -1;
	if (eta >= 0)
		fprintf(stderr, "\r%10llu messages %8.0f msg/s %5.1f%%  ETA %ld:%02ld   ",
			(unsigned long long)count, rate, frac * 100, eta / 60, eta % 60);
	else
		fprintf(stderr, "\r%10llu messages %8.0f msg/s   ", (unsigned long long)count, rate);
	p->drawn = 1;
}

/* progress_clear - erase the line so other messages print cleanly */
void progress_clear(struct progress *p)
{
	if (p->tty && p->drawn) {
		fprintf(stderr, "\r%70s\r", "");
		p->drawn = 0;
	}
}

/* progress_free - clear and free; NULL is fine */
void progress_free(struct progress *p)
{
	if (!p)
		return;
	progress_clear(p);
	free(p);
}
