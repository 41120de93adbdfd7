/*
 * spool.c - the durable Maildir-style spool (see spool.h for the format)
 *
 * Writing: spool_begin() opens tmp/NAME; spool_write() appends through a
 * 64 KB buffer so the message streams to disk and is never held whole in
 * memory; spool_commit() appends the envelope, patches the offset in the
 * first line, renames into new/, then fdatasync()s the file and fsync()s
 * new/ (one fsync of new/ serves all the commits renamed before it
 * started: group commit).
 * Reading: spool_read() checks a file and decodes its envelope in place.
 * Moving: spool_done() (stored), spool_fail() (to failed/ with a reason),
 * spool_retry() (back to new/).
 *
 * Names are "SECONDS.MICROSECONDS.PID_COUNTER[.QUEUEID]": unique per host,
 * and sorting them sorts by arrival.  The byte count of new/ + failed/ is
 * kept in an atomic counter for the MaxSpoolSize check.
 *
 * No libmilter here: crmctl links this file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "../common/common.h"
#include "spool.h"

#define SPOOL_BUF     (64 * 1024)
#define SPOOL_NAME    256
#define SPOOL_PATH    4096

struct spool {
	char *dir;
	int new_fd;                   /* new/, for fsync after rename */
	/* group commit of new/: one fsync covers every rename done before it began */
	pthread_mutex_t sync_lock;
	pthread_cond_t sync_done;
	uint64_t renamed;             /* renames into new/ so far */
	uint64_t synced;              /* renames covered by a finished fsync */
	int syncing;                  /* an fsync of new/ is running */
	int lock_fd;                  /* -1 until spool_lock */
	uid_t owner;                  /* the spool's owner: whose files are messages */
	_Atomic uint64_t bytes;       /* new/ + failed/ */
	_Atomic unsigned long counter;
};

struct spool_file {
	struct spool *sp;
	int fd;
	char name[SPOOL_NAME];
	char *buf;
	size_t used;
	uint64_t written;             /* message bytes appended */
	int error;                    /* errno of the first failure, 0 if none */
};

static const char *const area_names[] = { "tmp", "new", "failed" };

/* spool_area_name - see spool.h */
const char *spool_area_name(enum spool_area area)
{
	return area_names[area];
}

/* area_path - DIR/AREA[/NAME] into buf; returns buf */
static const char *area_path(const struct spool *sp, enum spool_area area, const char *name,
			     char *buf, size_t len)
{
	if (name)
		snprintf(buf, len, "%s/%s/%s", sp->dir, area_names[area], name);
	else
		snprintf(buf, len, "%s/%s", sp->dir, area_names[area]);
	return buf;
}

/* valid_name - a plain file name of ours: no '/', no leading '.', not too long */
static int valid_name(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n < SPOOL_NAME && name[0] != '.' && !strchr(name, '/');
}

/*
 * check_folder - PATH is a real folder (not a symbolic link) that only its
 * owner may write, as crmilter's folders must be (postfix check's rule);
 * its lstat into *ST when given.  Returns 0, or -1 with the path and the
 * reason in err.
 */
static int check_folder(const char *path, struct stat *st, char *err, size_t errlen)
{
	struct stat s;

	if (lstat(path, &s) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(s.st_mode)) {
		snprintf(err, errlen, "%s: is a symbolic link: crmilter works only in real folders "
			 "(make it one)", path);
		return -1;
	}
	if (!S_ISDIR(s.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", path);
		return -1;
	}
	if (s.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: writable by group or others (mode %04o): chmod 0750 it",
			 path, (unsigned)(s.st_mode & 07777));
		return -1;
	}
	if (st)
		*st = s;
	return 0;
}

/* spool_open - see spool.h */
int spool_open(const char *dir, int create, struct spool **out, char *err, size_t errlen)
{
	char path[SPOOL_PATH];
	struct stat st;

	if (create && mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (check_folder(dir, &st, err, errlen) < 0)
		return -1;
	struct spool *sp = calloc(1, sizeof *sp);
	if (!sp || !(sp->dir = strdup(dir))) {
		free(sp);
		snprintf(err, errlen, "%s: out of memory", dir);
		return -1;
	}
	sp->new_fd = -1;
	sp->lock_fd = -1;
	pthread_mutex_init(&sp->sync_lock, NULL);
	pthread_cond_init(&sp->sync_done, NULL);
	for (int a = SPOOL_TMP; a <= SPOOL_FAILED; a++) {
		area_path(sp, a, NULL, path, sizeof path);
		if (create && mkdir(path, 0750) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (check_folder(path, NULL, err, errlen) < 0)
			goto fail;
	}
	sp->owner = st.st_uid;
	area_path(sp, SPOOL_NEW, NULL, path, sizeof path);
	sp->new_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sp->new_fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	spool_recount(sp);
	*out = sp;
	return 0;
fail:
	spool_close(sp);
	return -1;
}

/* spool_close - see spool.h */
void spool_close(struct spool *sp)
{
	if (!sp)
		return;
	if (sp->new_fd >= 0)
		close(sp->new_fd);
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	pthread_mutex_destroy(&sp->sync_lock);
	pthread_cond_destroy(&sp->sync_done);
	free(sp->dir);
	free(sp);
}

/* spool_dir - see spool.h */
const char *spool_dir(const struct spool *sp)
{
	return sp->dir;
}

/* spool_lock - see spool.h */
int spool_lock(struct spool *sp, char *err, size_t errlen)
{
	char path[SPOOL_PATH];
	snprintf(path, sizeof path, "%s/.lock", sp->dir);
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
	struct stat st;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 errno == ELOOP ? "is a symbolic link: remove it" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file: remove it", path);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 errno == EWOULDBLOCK ? "another crmilter uses this spool" : strerror(errno));
		close(fd);
		return -1;
	}
	sp->lock_fd = fd;
	return 0;
}

/* chown_folder - give the folder PATH (never what a link there points to)
 * to UID:GID, through a descriptor of it; 0, or -1 (errno: ELOOP, ENOTDIR) */
static int chown_folder(const char *path, uid_t uid, gid_t gid)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc, e;

	if (fd < 0)
		return -1;
	rc = fchown(fd, uid, gid);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* spool_chown - see spool.h */
int spool_chown(struct spool *sp, uid_t uid, gid_t gid)
{
	char path[SPOOL_PATH];
	if (chown_folder(sp->dir, uid, gid) < 0)
		return -1;
	for (int a = SPOOL_TMP; a <= SPOOL_FAILED; a++)
		if (chown_folder(area_path(sp, a, NULL, path, sizeof path), uid, gid) < 0)
			return -1;
	if (sp->lock_fd >= 0 && fchown(sp->lock_fd, uid, gid) < 0)
		return -1;
	sp->owner = uid;
	return 0;
}

/* spool_state_write - see spool.h */
int spool_state_write(struct spool *sp, const char *name, const char *text)
{
	char tmp[SPOOL_PATH], path[SPOOL_PATH];
	size_t len = strlen(text);
	int fd, e;

	snprintf(path, sizeof path, "%s/%s", sp->dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", sp->dir, name);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		e = errno ? errno : EIO;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

/* spool_state_read - see spool.h */
int spool_state_read(const char *dir, const char *name, char *buf, size_t len)
{
	char path[SPOOL_PATH];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* spool_clean_tmp - see spool.h */
size_t spool_clean_tmp(struct spool *sp)
{
	char path[SPOOL_PATH];
	size_t n = 0;
	DIR *d = opendir(area_path(sp, SPOOL_TMP, NULL, path, sizeof path));
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* ---- writing ---- */

/* safe_hint - copy the letters and digits of HINT (at most 40) into buf */
static void safe_hint(const char *hint, char *buf, size_t len)
{
	size_t j = 0;
	for (const char *p = hint; p && *p && j + 1 < len && j < 40; p++)
		if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
			buf[j++] = *p;
	buf[j] = '\0';
}

/* spool_begin - see spool.h */
int spool_begin(struct spool *sp, const char *hint, struct spool_file **out, char *err, size_t errlen)
{
	char path[SPOOL_PATH], h[48];
	struct timeval tv;
	struct spool_file *f = calloc(1, sizeof *f);
	if (!f || !(f->buf = malloc(SPOOL_BUF))) {
		free(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	gettimeofday(&tv, NULL);
	safe_hint(hint, h, sizeof h);
	unsigned long n = atomic_fetch_add(&sp->counter, 1);
	snprintf(f->name, sizeof f->name, "%010lld.%06ld.%ld_%lu%s%s", (long long)tv.tv_sec,
		 (long)tv.tv_usec, (long)getpid(), n, *h ? "." : "", h);
	f->sp = sp;
	f->fd = open(area_path(sp, SPOOL_TMP, f->name, path, sizeof path),
		     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (f->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(f->buf);
		free(f);
		return -1;
	}
	/* the head is rewritten at commit; zeros until then mark an unfinished file */
	memcpy(f->buf, SPOOL_MAGIC "00000000000000000000\n", SPOOL_HEAD_LEN);
	f->used = SPOOL_HEAD_LEN;
	*out = f;
	return 0;
}

/* write_all - write len bytes at the current offset; 0 or -1 (errno) */
static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* flush_buf - write the buffer out; 0 or -1 (f->error set) */
static int flush_buf(struct spool_file *f)
{
	if (f->error)
		return -1;
	if (f->used && write_all(f->fd, f->buf, f->used) < 0) {
		f->error = errno ? errno : EIO;
		return -1;
	}
	f->used = 0;
	return 0;
}

/* put - append raw bytes to the file through the buffer; 0 or -1 */
static int put(struct spool_file *f, const char *p, size_t len)
{
	if (f->error)
		return -1;
	if (f->used + len > SPOOL_BUF) {
		if (flush_buf(f) < 0)
			return -1;
		if (len >= SPOOL_BUF) {
			if (write_all(f->fd, p, len) < 0) {
				f->error = errno ? errno : EIO;
				return -1;
			}
			return 0;
		}
	}
	memcpy(f->buf + f->used, p, len);
	f->used += len;
	return 0;
}

/* spool_write - see spool.h */
int spool_write(struct spool_file *f, const void *data, size_t len)
{
	if (put(f, data, len) < 0)
		return -1;
	f->written += len;
	return 0;
}

/* spool_written - see spool.h */
uint64_t spool_written(const struct spool_file *f)
{
	return f->written;
}

/* put_value - append "key value\n" with the value escaped; skipped when NULL */
static void put_value(struct spool_file *f, const char *key, const char *value)
{
	char esc[4];
	if (!value)
		return;
	put(f, key, strlen(key));
	put(f, " ", 1);
	const char *run = value;
	for (const unsigned char *p = (const unsigned char *)value;; p++) {
		if (*p && *p >= 0x20 && *p != 0x7f && *p != '%')
			continue;
		put(f, run, (size_t)((const char *)p - run));
		if (!*p)
			break;
		snprintf(esc, sizeof esc, "%%%02X", *p);
		put(f, esc, 3);
		run = (const char *)p + 1;
	}
	put(f, "\n", 1);
}

/* put_number - append "key N\n" */
static void put_number(struct spool_file *f, const char *key, long long v)
{
	char line[64];
	int n = snprintf(line, sizeof line, "%s %lld\n", key, v);
	put(f, line, (size_t)n);
}

/*
 * sync_new_dir - make the rename numbered SEQ durable: fsync new/, sharing
 * one fsync among the renames of concurrent commits (group commit).
 * Returns 0, or -1 with errno when the fsync that covered SEQ failed.
 */
static int sync_new_dir(struct spool *sp, uint64_t seq)
{
	int rc = 0;
	pthread_mutex_lock(&sp->sync_lock);
	for (;;) {
		if (sp->synced >= seq)
			break;
		if (sp->syncing) {
			pthread_cond_wait(&sp->sync_done, &sp->sync_lock);
			continue;
		}
		/* this fsync covers every rename counted so far, ours included */
		uint64_t target = sp->renamed;
		sp->syncing = 1;
		pthread_mutex_unlock(&sp->sync_lock);
		int r = fsync(sp->new_fd);
		int saved = errno;
		pthread_mutex_lock(&sp->sync_lock);
		sp->syncing = 0;
		if (r == 0 && target > sp->synced)
			sp->synced = target;
		pthread_cond_broadcast(&sp->sync_done);
		if (r < 0) {
			rc = -1;
			errno = saved;
			break;
		}
	}
	pthread_mutex_unlock(&sp->sync_lock);
	return rc;
}

/* spool_abandon - see spool.h */
void spool_abandon(struct spool_file *f)
{
	char path[SPOOL_PATH];
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	unlink(area_path(f->sp, SPOOL_TMP, f->name, path, sizeof path));
	free(f->buf);
	free(f);
}

/* spool_commit - see spool.h */
int spool_commit(struct spool_file *f, const struct spool_env *env, char *name, size_t namelen,
		 char *err, size_t errlen)
{
	char tmp[SPOOL_PATH], dst[SPOOL_PATH], head[SPOOL_HEAD_LEN + 1];
	uint64_t env_off = SPOOL_HEAD_LEN + f->written;

	put_value(f, "queue-id", env->queue_id);
	put_value(f, "mail-from", env->mail_from);
	for (size_t i = 0; i < env->n_rcpts; i++)
		put_value(f, "rcpt", env->rcpts[i]);
	put_value(f, "client-addr", env->client_addr);
	put_value(f, "client-name", env->client_name);
	put_value(f, "auth-authen", env->auth_authen);
	put_value(f, "daemon-name", env->daemon_name);
	put_value(f, "message-id", env->message_id);
	put_number(f, "arrival", env->arrival);
	put_number(f, "size", (long long)env->size);
	put_number(f, "originated", env->originated);
	put_number(f, "truncated", env->truncated);
	put_number(f, "headers-only", env->headers_only);
	put_value(f, "reply-tag", env->reply_tag);
	if (flush_buf(f) < 0)
		goto fail;
	snprintf(head, sizeof head, SPOOL_MAGIC "%020" PRIu64 "\n", env_off);
	if (pwrite(f->fd, head, SPOOL_HEAD_LEN, 0) != SPOOL_HEAD_LEN) {
		f->error = errno ? errno : EIO;
		goto fail;
	}
	area_path(f->sp, SPOOL_TMP, f->name, tmp, sizeof tmp);
	area_path(f->sp, SPOOL_NEW, f->name, dst, sizeof dst);
	if (rename(tmp, dst) < 0) {
		f->error = errno;
		goto fail;
	}
	/*
	 * Sync after the rename, not before: the file's data and its name in
	 * new/ then go to disk in one journal commit, and the fsync of new/
	 * finds its work done.  A crash before the syncs can leave a short file
	 * in new/, but this message was not yet accepted, and the worker moves
	 * a file without its complete first line to failed/.
	 */
	int synced = fdatasync(f->fd);
	int sync_errno = errno;
	close(f->fd);
	f->fd = -1;
	pthread_mutex_lock(&f->sp->sync_lock);
	uint64_t seq = ++f->sp->renamed;
	pthread_mutex_unlock(&f->sp->sync_lock);
	if (synced < 0 || sync_new_dir(f->sp, seq) < 0) {
		/* the file may not be durable: report it, but it stays for the worker */
		snprintf(err, errlen, "%s: fsync: %s", dst, strerror(synced < 0 ? sync_errno : errno));
		atomic_fetch_add(&f->sp->bytes, env_off);
		free(f->buf);
		free(f);
		return -1;
	}
	atomic_fetch_add(&f->sp->bytes, env_off);
	snprintf(name, namelen, "%s", f->name);
	free(f->buf);
	free(f);
	return 0;
fail:
	snprintf(err, errlen, "%s/tmp/%s: %s", f->sp->dir, f->name, strerror(f->error ? f->error : EIO));
	spool_abandon(f);
	return -1;
}

/* ---- listing, reading, moving ---- */

/* spool_count - see spool.h */
int spool_count(struct spool *sp, enum spool_area a, long long *files, long long *bytes,
		int64_t *oldest, char *err, size_t errlen)
{
	struct spool_list l;

	*files = *bytes = 0;
	*oldest = 0;
	if (spool_list(sp, a, &l, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		if (!l.mtimes[i])	/* ingested between readdir and stat */
			continue;
		(*files)++;
		*bytes += (long long)l.sizes[i];
		if (!*oldest || l.mtimes[i] < *oldest)
			*oldest = l.mtimes[i];
	}
	spool_list_free(&l);
	return 0;
}

/* name_cmp - qsort order of listing indexes by name */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* spool_list - see spool.h */
int spool_list(struct spool *sp, enum spool_area area, struct spool_list *out, char *err, size_t errlen)
{
	char path[SPOOL_PATH];
	size_t cap = 0;
	memset(out, 0, sizeof *out);
	DIR *d = opendir(area_path(sp, area, NULL, path, sizeof path));
	if (!d) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || (l > 7 && strcmp(de->d_name + l - 7, ".reason") == 0))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *names);
			if (!nn)
				goto oom;
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name)))
			goto oom;
		n++;
	}
	if (n > 0)	/* qsort must not get the NULL of an empty area */
		qsort(names, n, sizeof *names, name_cmp);
	out->names = names;
	out->n = n;
	out->sizes = calloc(n ? n : 1, sizeof *out->sizes);
	out->mtimes = calloc(n ? n : 1, sizeof *out->mtimes);
	if (!out->sizes || !out->mtimes) {
		closedir(d);
		spool_list_free(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
			out->sizes[i] = (uint64_t)st.st_size;
			out->mtimes[i] = (int64_t)st.st_mtime;
		}
	}
	closedir(d);
	return 0;
oom:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* spool_list_free - see spool.h */
void spool_list_free(struct spool_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->sizes);
	free(l->mtimes);
	memset(l, 0, sizeof *l);
}

/* hexval - value of one hex digit, or -1 */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* unescape - decode %XX in place; returns the string */
static char *unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		int hi, lo;
		if (*r == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return s;
}

/* parse_env - decode the envelope block [p, end) into m->env; NULL or an error */
static const char *parse_env(struct spool_msg *m, char *p, char *end)
{
	size_t cap = 0;
	struct spool_env *e = &m->env;
	e->originated = -1;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return "envelope line without a newline";
		*nl = '\0';
		char *val = strchr(p, ' ');
		if (!val)
			return "envelope line without a value";
		*val++ = '\0';
		unescape(val);
		if (strcmp(p, "queue-id") == 0) e->queue_id = val;
		else if (strcmp(p, "mail-from") == 0) e->mail_from = val;
		else if (strcmp(p, "client-addr") == 0) e->client_addr = val;
		else if (strcmp(p, "client-name") == 0) e->client_name = val;
		else if (strcmp(p, "auth-authen") == 0) e->auth_authen = val;
		else if (strcmp(p, "daemon-name") == 0) e->daemon_name = val;
		else if (strcmp(p, "message-id") == 0) e->message_id = val;
		else if (strcmp(p, "arrival") == 0) e->arrival = strtoll(val, NULL, 10);
		else if (strcmp(p, "size") == 0) e->size = strtoull(val, NULL, 10);
		else if (strcmp(p, "originated") == 0) e->originated = atoi(val);
		else if (strcmp(p, "truncated") == 0) e->truncated = atoi(val) != 0;
		else if (strcmp(p, "headers-only") == 0) e->headers_only = atoi(val) != 0;
		else if (strcmp(p, "reply-tag") == 0) e->reply_tag = val;
		else if (strcmp(p, "rcpt") == 0) {
			if (e->n_rcpts == SPOOL_MAX_RCPTS)
				return "too many recipients";
			if (e->n_rcpts == cap) {
				cap = cap ? cap * 2 : 8;
				const char **nv = realloc(m->rcpt_v, cap * sizeof *nv);
				if (!nv)
					return "out of memory";
				m->rcpt_v = nv;
			}
			m->rcpt_v[e->n_rcpts++] = val;
		}
		p = nl + 1;
	}
	e->rcpts = m->rcpt_v;
	return NULL;
}

/*
 * read_ours - the whole of PATH when it is a regular file of the spool's
 * owner (opened without following a link and without blocking on a FIFO);
 * its size into *len.  Returns a new buffer (free()), or NULL with errno
 * (ENOENT: gone) or, for a file crmilter did not write, the reason in *why.
 */
static char *read_ours(const struct spool *sp, const char *path, size_t *len, const char **why)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), saved;
	struct stat st;
	char *buf = NULL;

	*why = NULL;
	if (fd < 0) {
		if (errno == ELOOP)
			*why = "a symbolic link, not a file crmilter wrote";
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode))
		*why = "not a regular file (a FIFO, socket or device): not taken";
	else if (st.st_uid != sp->owner)
		*why = "owned by another user than the spool's: not a file crmilter wrote";
	else if ((uint64_t)st.st_size > SPOOL_MAX_FILE)
		*why = "larger than a spool file can be";
	else
		buf = read_fd(fd, &st, SPOOL_MAX_FILE, len);
out:
	saved = errno;
	close(fd);
	errno = saved;
	return buf;
}

/* spool_read - see spool.h */
int spool_read(struct spool *sp, enum spool_area area, const char *name, struct spool_msg *out,
	       char *err, size_t errlen)
{
	char path[SPOOL_PATH];
	size_t len;
	const char *why;
	memset(out, 0, sizeof *out);
	if (!valid_name(name)) {
		snprintf(err, errlen, "%s: not a spool file name", name);
		errno = EINVAL;
		return -1;
	}
	area_path(sp, area, name, path, sizeof path);
	char *buf = read_ours(sp, path, &len, &why);
	if (!buf) {
		snprintf(err, errlen, "%s: %s", path, why ? why : strerror(errno));
		if (why)
			errno = EINVAL;
		return -1;
	}
	out->buf = buf;
	out->buf_len = len;
	char *endp;
	if (len < SPOOL_HEAD_LEN || memcmp(buf, SPOOL_MAGIC, strlen(SPOOL_MAGIC)) != 0 ||
	    buf[SPOOL_HEAD_LEN - 1] != '\n') {
		why = "not a crmilter spool file (bad first line)";
		goto bad;
	}
	uint64_t off = strtoull(buf + strlen(SPOOL_MAGIC), &endp, 10);
	if (endp != buf + SPOOL_HEAD_LEN - 1 || off < SPOOL_HEAD_LEN || off > len) {
		why = "bad envelope offset in the first line";
		goto bad;
	}
	out->raw = buf + SPOOL_HEAD_LEN;
	out->raw_len = (size_t)off - SPOOL_HEAD_LEN;
	if ((why = parse_env(out, buf + off, buf + len)) != NULL)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "%s: %s", path, why);
	spool_msg_free(out);
	errno = EINVAL;
	return -1;
}

/* spool_msg_free - see spool.h */
void spool_msg_free(struct spool_msg *m)
{
	free(m->buf);
	free(m->rcpt_v);
	memset(m, 0, sizeof *m);
}

/* file_size - size of a file, 0 when it cannot be read */
static uint64_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* sub_bytes - lower the byte counter without wrapping below 0 */
static void sub_bytes(struct spool *sp, uint64_t n)
{
	uint64_t cur = atomic_load(&sp->bytes);
	while (!atomic_compare_exchange_weak(&sp->bytes, &cur, cur > n ? cur - n : 0))
		;
}

/* spool_done - see spool.h */
int spool_done(struct spool *sp, const char *name)
{
	char path[SPOOL_PATH];
	if (!valid_name(name)) {
		errno = EINVAL;
		return -1;
	}
	area_path(sp, SPOOL_NEW, name, path, sizeof path);
	uint64_t size = file_size(path);
	if (unlink(path) < 0)
		return -1;
	sub_bytes(sp, size);
	return 0;
}

/* spool_fail - see spool.h */
int spool_fail(struct spool *sp, const char *name, const char *reason)
{
	char src[SPOOL_PATH], dst[SPOOL_PATH], rpath[SPOOL_PATH + 8];
	if (!valid_name(name)) {
		errno = EINVAL;
		return -1;
	}
	area_path(sp, SPOOL_NEW, name, src, sizeof src);
	area_path(sp, SPOOL_FAILED, name, dst, sizeof dst);
	snprintf(rpath, sizeof rpath, "%s.reason", dst);
	FILE *f = fopen(rpath, "w");
	if (f) {
		for (const char *p = reason; *p; p++)
			fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
		fputc('\n', f);
		fclose(f);
	}
	return rename(src, dst);
}

/* spool_retry - see spool.h */
int spool_retry(struct spool *sp, const char *name)
{
	char src[SPOOL_PATH], dst[SPOOL_PATH], rpath[SPOOL_PATH + 8];
	if (!valid_name(name)) {
		errno = EINVAL;
		return -1;
	}
	area_path(sp, SPOOL_FAILED, name, src, sizeof src);
	area_path(sp, SPOOL_NEW, name, dst, sizeof dst);
	if (rename(src, dst) < 0)
		return -1;
	snprintf(rpath, sizeof rpath, "%s.reason", src);
	unlink(rpath);
	return 0;
}

/* spool_reason - see spool.h */
const char *spool_reason(struct spool *sp, const char *name, char *buf, size_t len)
{
	char path[SPOOL_PATH + 8], tmp[SPOOL_PATH];
	buf[0] = '\0';
	if (!valid_name(name) || len == 0)
		return buf;
	snprintf(path, sizeof path, "%s.reason", area_path(sp, SPOOL_FAILED, name, tmp, sizeof tmp));
	FILE *f = fopen(path, "r");
	if (!f)
		return buf;
	if (!fgets(buf, (int)(len > 65536 ? 65536 : len), f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return buf;
}

/* spool_bytes - see spool.h */
uint64_t spool_bytes(const struct spool *sp)
{
	return atomic_load(&((struct spool *)sp)->bytes);
}

/* area_bytes - total size of the files of one area */
static uint64_t area_bytes(struct spool *sp, enum spool_area area)
{
	char path[SPOOL_PATH];
	uint64_t total = 0;
	DIR *d = opendir(area_path(sp, area, NULL, path, sizeof path));
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
		    S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

/* spool_recount - see spool.h */
uint64_t spool_recount(struct spool *sp)
{
	uint64_t total = area_bytes(sp, SPOOL_NEW) + area_bytes(sp, SPOOL_FAILED);
	atomic_store(&sp->bytes, total);
	return total;
}
