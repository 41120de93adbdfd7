/*
 * util.c - small helpers: whole-file reads, sizes and dates in user input
 */
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common.h"

/* read_fd - read the file open on FD whole; see common.h */
char *read_fd(int fd, const struct stat *st, size_t max, size_t *len)
{
	if (!S_ISREG(st->st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	if ((uint64_t)st->st_size > max) {
		errno = EFBIG;
		return NULL;
	}
	size_t size = (size_t)st->st_size, got = 0;
	char *buf = malloc(size + 1);
	if (!buf)
		return NULL;
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;
			free(buf);
			errno = saved;
			return NULL;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* read_file - read PATH whole; see common.h */
char *read_file(const char *path, size_t max, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), saved;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0)
		buf = read_fd(fd, &st, max, len);
	saved = errno;
	close(fd);
	errno = saved;
	return buf;
}

/* read_file_error - see common.h */
const char *read_file_error(int err)
{
	if (err == EINVAL)
		return "not a regular file";
	if (err == EFBIG)
		return "file too large";
	return strerror(err);
}

/* parse_size - a byte count with an optional k/M/G suffix; 0 or -1 */
int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	uint64_t mult = 1;
	switch (*end) {
	case 'k': case 'K': mult = 1024ULL; end++; break;
	case 'm': case 'M': mult = 1024ULL * 1024; end++; break;
	case 'g': case 'G': mult = 1024ULL * 1024 * 1024; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* parse_date - "YYYY-MM-DD[THH:MM[:SS]][Z]" in UTC to epoch seconds; 0 or -1 */
int parse_date(const char *s, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (!end)
		return -1;
	if (*end == 'T' || *end == ' ') {
		const char *t = strptime(end + 1, "%H:%M:%S", &tm);
		if (!t)
			t = strptime(end + 1, "%H:%M", &tm);
		if (!t)
			return -1;
		end = t;
	}
	if (*end == 'Z')
		end++;
	if (*end != '\0')
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* format_utc - epoch seconds as "YYYY-MM-DD HH:MM:SS" in UTC; returns buf */
const char *format_utc(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "?");
	return buf;
}

/* conf_store_owner - see common.h */
int conf_store_owner(const struct conf *c, unsigned *uid, unsigned *gid)
{
	struct passwd *pw;

	if (geteuid() != 0 || !c->user || !*c->user || !(pw = getpwnam(c->user)) || pw->pw_uid == 0)
		return 0;
	*uid = (unsigned)pw->pw_uid;
	*gid = (unsigned)pw->pw_gid;
	return 1;
}

/* sockaddr_text - see common.h */
const char *sockaddr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a;

	if (sa && sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa && sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return NULL;
	return inet_ntop(sa->sa_family, a, buf, (socklen_t)len);
}
