/*
 * pidfile.c - is the daemon a pid file names running?  (crmctl status,
 * crmview /metrics)
 *
 * Public (common.h): pidfile_check.  A pid file can outlive its daemon
 * (a crash, a kill -9) and its number can be reused by another process,
 * so a process counts only when it exists (kill(pid, 0): EPERM also means
 * it exists) and, where /proc is mounted, its name (/proc/PID/comm) is
 * the one expected.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "common.h"

/* comm_is - 1 when /proc/PID/comm is NAME or /proc cannot tell, else 0 */
static int comm_is(long pid, const char *name)
{
	char path[64], comm[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT && access("/proc/self/comm", F_OK) == 0 ? 0 : 1;
	n = fread(comm, 1, sizeof comm - 1, f);
	fclose(f);
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	/* the kernel keeps the first 15 bytes of the name */
	return strncmp(comm, name, 15) == 0;
}

/* pidfile_check - see common.h */
int pidfile_check(const char *path, const char *name, long *pid)
{
	size_t len;
	char *text, *end;
	long p;

	*pid = 0;
	text = read_file(path, 64, &len);
	if (!text)
		return errno == ENOENT ? 0 : -1;
	errno = 0;
	p = strtol(text, &end, 10);
	while (*end == '\n' || *end == ' ' || *end == '\r')
		end++;
	if (end == text || *end || errno || p <= 0 || (pid_t)p != p) {
		free(text);
		errno = EINVAL;
		return -1;
	}
	free(text);
	*pid = p;
	if (kill((pid_t)p, 0) < 0 && errno != EPERM)
		return 0;
	return comm_is(p, name);
}
