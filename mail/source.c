/*
 * source.c - read messages from mail sources: files, mbox, Maildir, folders
 *
 * mail_source_open() expands a path into a sorted list of files: a single
 * file, or every file below a folder, hidden folders too (Maildir++); a
 * Maildir's tmp/, hidden files and mail servers' index files are not read,
 * and each entry not read is kept with its reason (mail_source_skipped).  Each file
 * is mapped read-only.  A UTF-8 byte order mark at the start of a file is
 * skipped.  A file starting with "From " is an mbox (a .eml file is one
 * message all the same), split at the lines that start with "From " where
 * a message can begin (message_starts: the line has a time, a header field
 * follows, no multipart of the message before is still open), so that a
 * forwarded patch or a sentence in an unescaped body does not cut it;
 * mboxrd escaping (">From", ">>From") is undone by one level.
 * Any other file is one message.  Nothing here parses MIME.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail.h"

#define SOURCE_MAX_FILES  10000000
#define SOURCE_MAX_DEPTH  32
#define SOURCE_READ_MAX   (4u * 1024 * 1024)  /* smaller files are read, larger mapped */
#define SOURCE_RELEASE    (64u * 1024 * 1024) /* mapped bytes read before they are let go */

/* where the current file's bytes live */
enum map_kind { MAP_NONE, MAP_MAPPED, MAP_READ, MAP_COPY };

struct mail_source {
	char **files;          /* sorted paths to read */
	uint64_t *sizes;
	size_t n_files, cap_files;
	char **skipped;        /* "PATH: reason" of each entry not read */
	size_t n_skipped;
	size_t next_file;      /* index of the next file to open */
	uint64_t bytes_total;
	uint64_t bytes_before; /* bytes of files finished */

	/* the file being read */
	char *map;             /* the file's bytes (see kind) */
	size_t map_len;
	enum map_kind kind;    /* mapped; read into readbuf; or a converted copy */
	char *readbuf;         /* reused for small files: no mmap/munmap per file */
	size_t readbuf_cap;
	size_t pos;            /* mbox: offset of the next "From " line */
	size_t bom;            /* 3 when the file starts with a UTF-8 byte order mark */
	size_t released;       /* mapped bytes below this were handed back (madvise) */
	int in_mbox;
	int single;            /* a .eml: never split, even when it starts "From " */
	int64_t mtime;
	const char *path;

	char *buf;             /* mbox message with escaping undone */
	size_t buf_cap;
};

/* source_add - append a file to the list; 0, or -1 when the list is full */
static int source_add(struct mail_source *src, const char *path, uint64_t size)
{
	if (src->n_files >= SOURCE_MAX_FILES)
		return -1;
	if (src->n_files == src->cap_files) {
		size_t cap = src->cap_files ? src->cap_files * 2 : 64;
		char **f = realloc(src->files, cap * sizeof *f);
		if (!f)
			return -1;
		src->files = f;
		uint64_t *s = realloc(src->sizes, cap * sizeof *s);
		if (!s)
			return -1;
		src->sizes = s;
		src->cap_files = cap;
	}
	char *copy = strdup(path);
	if (!copy)
		return -1;
	src->files[src->n_files] = copy;
	src->sizes[src->n_files++] = size;
	src->bytes_total += size;
	return 0;
}

/* skip_add - remember that PATH is not read, and why; 0, or -1 out of memory */
static int skip_add(struct mail_source *src, const char *path, const char *why)
{
	char **v = realloc(src->skipped, (src->n_skipped + 1) * sizeof *v);

	if (!v)
		return -1;
	src->skipped = v;
	if (asprintf(&v[src->n_skipped], "%s: %s", path, why) < 0)
		return -1;
	src->n_skipped++;
	return 0;
}

/* maildir_meta - NAME is a file mail servers keep beside cur/ and new/ */
static int maildir_meta(const char *name)
{
	static const char *const pre[] = { "dovecot", "courierimap", "maildirfolder", "maildirsize",
					   "subscriptions", "dovecot-uidlist", "dovecot-keywords" };

	for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
		if (strncmp(name, pre[i], strlen(pre[i])) == 0)
			return 1;
	return 0;
}

/* count_files - entries of the folder DIR that are not hidden */
static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* is_dir - 1 when PATH/SUB is a directory */
static int is_dir(const char *path, const char *sub)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", path, sub);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* cmp_names - qsort comparator for directory entry names */
static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct mail_source *src, const char *dir, int depth, char *err, size_t errlen);

/*
 * walk_entry - one directory entry: a file to read, a folder to walk in
 * turn, or something not read, remembered with its reason.  MAILDIR: DIR
 * is a Maildir (its metadata files are not mail).  Returns 0, or -1 with
 * err filled.
 */
static int walk_entry(struct mail_source *src, const char *dir, const char *name, int depth,
		      int maildir, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	const char *why = NULL;
	int rc = 0;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		why = "path too long";
	else if (stat(path, &st) < 0)
		why = errno == ENOENT ? "a link to nothing, or gone" : strerror(errno);
	else if (S_ISDIR(st.st_mode))
		return walk(src, path, depth + 1, err, errlen);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (name[0] == '.')
		why = "a hidden file";
	else if (maildir && maildir_meta(name))
		why = "a mail server's index file, not a message";
	else if (source_add(src, path, (uint64_t)st.st_size) < 0)
		rc = -1;
	if (!rc && why && skip_add(src, path, why) < 0)
		rc = -1;
	if (rc < 0)
		snprintf(err, errlen, "%s: too many files, or out of memory", dir);
	return rc;
}

/*
 * walk - add the files under DIR in sorted order: every file and folder,
 * hidden folders too (Maildir++ keeps .Sent, .Archive.2019 ...); a Maildir's
 * tmp/ holds deliveries in progress and is not read.  Returns 0, or -1 with
 * err filled.
 */
static int walk(struct mail_source *src, const char *dir, int depth, char *err, size_t errlen)
{
	int maildir = is_dir(dir, "cur") || is_dir(dir, "new");

	if (depth > SOURCE_MAX_DEPTH)
		return skip_add(src, dir, "more than 32 folders deep") < 0 ? -1 : 0;
	DIR *d = opendir(dir);
	if (!d) {
		if (depth == 0) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
		return skip_add(src, dir, strerror(errno)) < 0 ? -1 : 0;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *nn);
			if (!nn) { rc = -1; snprintf(err, errlen, "%s: out of memory", dir); goto out; }
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = -1; snprintf(err, errlen, "%s: out of memory", dir); goto out;
		}
		n++;
	}
	if (n > 0)	/* qsort must not get the NULL of an empty folder */
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char sub[4096];

		if (maildir && strcmp(names[i], "tmp") == 0 && is_dir(dir, "tmp")) {
			snprintf(sub, sizeof sub, "%s/tmp", dir);
			if (count_files(sub) > 0 &&
			    skip_add(src, sub, "a Maildir's tmp/: deliveries in progress, not read") < 0)
				rc = -1;
			continue;
		}
		rc = walk_entry(src, dir, names[i], depth, maildir, err, errlen);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/* mail_source_open - see mail.h */
int mail_source_open(const char *path, struct mail_source **out, char *err, size_t errlen)
{
	struct stat st;
	*out = NULL;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct mail_source *src = calloc(1, sizeof *src);
	if (!src) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	int rc = 0;
	if (S_ISREG(st.st_mode)) {
		if (source_add(src, path, (uint64_t)st.st_size) < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			rc = -1;
		}
	} else if (S_ISDIR(st.st_mode)) {
		rc = walk(src, path, 0, err, errlen);
	} else {
		snprintf(err, errlen, "%s: not a file or folder", path);
		rc = -1;
	}
	if (rc < 0) {
		mail_source_close(src);
		return -1;
	}
	*out = src;
	return 0;
}

/* close_current - unmap the file being read and count its bytes as done */
static void close_current(struct mail_source *src)
{
	if (src->kind == MAP_COPY)
		free(src->map);
	else if (src->kind == MAP_MAPPED)
		munmap(src->map, src->map_len);
	src->kind = MAP_NONE;
	if (src->path)
		src->bytes_before += src->map_len;
	src->map = NULL;
	src->map_len = 0;
	src->pos = 0;
	src->in_mbox = 0;
	src->path = NULL;
}

/*
 * convert_cr_only - old Macintosh files end lines with CR alone; give such a
 * file (CR, no LF at all) a private copy with LF endings so that mbox
 * splitting and the parser see lines.  Returns 0, or -1 out of memory.
 */
static int convert_cr_only(struct mail_source *src)
{
	if (memchr(src->map, '\n', src->map_len) || !memchr(src->map, '\r', src->map_len))
		return 0;
	char *copy = malloc(src->map_len);
	if (!copy)
		return -1;
	for (size_t i = 0; i < src->map_len; i++)
		copy[i] = src->map[i] == '\r' ? '\n' : src->map[i];
	if (src->kind == MAP_MAPPED)
		munmap(src->map, src->map_len);
	src->map = copy;
	src->kind = MAP_COPY;
	return 0;
}

/* read_small - read a file of SIZE bytes into the reused buffer; 0 or -1 (errno) */
static int read_small(struct mail_source *src, int fd, size_t size)
{
	if (src->readbuf_cap < size) {
		char *b = realloc(src->readbuf, size);
		if (!b)
			return -1;
		src->readbuf = b;
		src->readbuf_cap = size;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, src->readbuf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;	/* shrank while reading: take what is there */
		got += (size_t)r;
	}
	src->map = src->readbuf;
	src->map_len = got;
	src->kind = MAP_READ;
	return 0;
}

/* map_large - map a large file read-only; 0 or -1 (errno) */
static int map_large(struct mail_source *src, int fd, size_t size)
{
	void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return -1;
	(void)madvise(m, size, MADV_SEQUENTIAL);
	src->released = 0;
	src->map = m;
	src->map_len = size;
	src->kind = MAP_MAPPED;
	return 0;
}

/* open_next - read or map the next file; 1 opened, 0 no more files, -1 error (err) */
static int open_next(struct mail_source *src, char *err, size_t errlen)
{
	if (src->next_file >= src->n_files)
		return 0;
	const char *path = src->files[src->next_file];
	uint64_t listed = src->sizes[src->next_file];
	src->next_file++;
	/* O_NONBLOCK: a FIFO put in the file's place since the listing must
	 * not hang the import waiting for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: not a regular file any more", path);
		src->bytes_before += listed;
		return -1;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		src->bytes_before += listed;
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		snprintf(err, errlen, "%s: empty file", path);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	int rc = size <= SOURCE_READ_MAX ? read_small(src, fd, size) : map_large(src, fd, size);
	int saved = errno;
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		src->bytes_before += listed;
		return -1;
	}
	src->bytes_total += (uint64_t)size - listed;	/* grew or shrank since listed */
	if (convert_cr_only(src) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		src->bytes_before += src->map_len;
		close_current(src);
		return -1;
	}
	src->path = path;
	src->mtime = (int64_t)st.st_mtime;
	/* a UTF-8 byte order mark (editors on Windows write one) is not part
	 * of the message: mail and mbox start after it */
	src->bom = src->map_len >= 3 && memcmp(src->map, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	src->pos = src->bom;
	src->in_mbox = src->map_len - src->bom >= 5 && memcmp(src->map + src->bom, "From ", 5) == 0;
	/* a .eml file is one message, even after a "From " line */
	src->single = strlen(path) > 4 && strcasecmp(path + strlen(path) - 4, ".eml") == 0;
	return 1;
}

/* from_line_date - the date at the end of an mbox "From sender date" line, or 0 */
static int64_t from_line_date(const char *line, size_t len)
{
	char tmp[256];
	if (len >= sizeof tmp)
		return 0;
	memcpy(tmp, line, len);
	tmp[len] = '\0';
	const char *p = tmp + 5;
	while (*p == ' ')
		p++;
	p = strchr(p, ' ');	/* skip the sender */
	if (!p)
		return 0;
	while (*p == ' ')
		p++;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(p, "%a %b %d %H:%M:%S %Y", &tm);
	if (!end)
		return 0;
	return (int64_t)timegm(&tm);
}

/* unescaped_from - 1 when the line at P is ">From " with one or more '>' */
static int unescaped_from(const char *p, size_t left)
{
	size_t i = 0;
	while (i < left && p[i] == '>')
		i++;
	return i > 0 && left - i >= 5 && memcmp(p + i, "From ", 5) == 0;
}

/* copy_unescaped - copy an mbox message into src->buf undoing one level of
 * mboxrd escaping; returns the copied length, or -1 when memory runs out */
static ssize_t copy_unescaped(struct mail_source *src, const char *p, size_t len)
{
	if (src->buf_cap < len + 1) {
		char *b = realloc(src->buf, len + 1);
		if (!b)
			return -1;
		src->buf = b;
		src->buf_cap = len + 1;
	}
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t line_len = nl ? (size_t)(nl - (p + i)) + 1 : len - i;
		size_t skip = unescaped_from(p + i, line_len) ? 1 : 0;
		memcpy(src->buf + o, p + i + skip, line_len - skip);
		o += line_len - skip;
		i += line_len;
	}
	src->buf[o] = '\0';
	return (ssize_t)o;
}

/*
 * release_read - hand the pages of a mapped mbox that are read back to the
 * kernel, so that a 10 GB mbox does not show 10 GB resident while it is
 * imported (they are page cache, but an admin watching top cannot tell)
 */
static void release_read(struct mail_source *src)
{
	if (src->kind != MAP_MAPPED || src->pos - src->released < SOURCE_RELEASE)
		return;
	long page = sysconf(_SC_PAGESIZE);
	size_t upto = src->pos / (size_t)page * (size_t)page;
	if (upto > src->released) {
		(void)madvise(src->map + src->released, upto - src->released, MADV_DONTNEED);
		src->released = upto;
	}
}

/* mbox_next - the next message of the mapped mbox; 1, 0 at its end, -1 error */
/* has_time - the line P (LEN bytes) holds a time "hh:mm", as every mbox
 * "From " line does and a sentence that starts with "From" seldom does */
static int has_time(const char *p, size_t len)
{
	for (size_t i = 0; i + 5 <= len; i++)
		if (isdigit((unsigned char)p[i]) && isdigit((unsigned char)p[i + 1]) && p[i + 2] == ':' &&
		    isdigit((unsigned char)p[i + 3]) && isdigit((unsigned char)p[i + 4]))
			return 1;
	return 0;
}

/*
 * field_start - P (LEN bytes) starts with a header field name and its colon
 * ("Name:", or the obsolete "Name :"): token characters, what real headers
 * use, though RFC 5322 would allow any printable character but ':'
 */
static int field_start(const char *p, size_t len)
{
	size_t i = 0, name;

	while (i < len && (isalnum((unsigned char)p[i]) || strchr("!#$%&'*+-.^_`|~", p[i])))
		i++;
	name = i;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return name > 0 && i < len && p[i] == ':';
}

/*
 * top_boundary - the boundary of the message whose header starts at P (up to
 * END) when it is multipart, into BUF ("" when none); the header ends at the
 * first empty line
 */
static void top_boundary(const char *p, const char *end, char *buf, size_t len)
{
	const char *hend = p, *b;
	size_t n = 0;

	buf[0] = '\0';
	while (hend < end && !(hend[0] == '\n' && (hend + 1 == end || hend[1] == '\n' || hend[1] == '\r')))
		hend++;
	for (b = p; b + 9 < hend; b++)
		if (strncasecmp(b, "boundary=", 9) == 0)
			break;
	if (b + 9 >= hend)
		return;
	b += 9;
	if (*b == '"')
		for (b++; b < hend && *b != '"' && n + 1 < len; b++)
			buf[n++] = *b;
	else
		for (; b < hend && !strchr(" \t\r\n;", *b) && n + 1 < len; b++)
			buf[n++] = *b;
	buf[n] = '\0';
}

/* the closing delimiter of the current message's top multipart, looked for
 * once over the message however many "From " lines it holds */
struct part_end {
	char close[200];       /* "\n--BOUNDARY--"; "" when not multipart */
	size_t n;
	const char *from;      /* searched up to here */
	int seen;
};

/* part_closed - the multipart of PE is closed before HIT (or there is none) */
static int part_closed(struct part_end *pe, const char *hit)
{
	const char *f;

	if (pe->seen || pe->n == 0)
		return 1;
	if (hit - pe->from < (ptrdiff_t)pe->n)
		return 0;
	f = memmem(pe->from, (size_t)(hit - pe->from), pe->close, pe->n);
	if (f) {
		pe->seen = 1;
		return 1;
	}
	pe->from = hit - (pe->n - 1);	/* a delimiter may straddle HIT */
	return 0;
}

/*
 * message_starts - a "From " line at HIT ('\n' before it, END the end of the
 * file) begins the next message of an mbox: a line with a time, a header
 * field after it, and no multipart of the current message still open (PE):
 * a forwarded patch or a sentence in a body never splits a message
 */
static int message_starts(const char *hit, const char *end, struct part_end *pe)
{
	const char *line = hit + 1, *eol = memchr(line, '\n', (size_t)(end - line));

	if (!eol || !has_time(line, (size_t)(eol - line)) || !field_start(eol + 1, (size_t)(end - eol - 1)))
		return 0;
	return part_closed(pe, hit);
}

static int mbox_next(struct mail_source *src, struct mail_item *item, char *err, size_t errlen)
{
	const char *map = src->map;
	size_t len = src->map_len, start = src->pos;
	char boundary[180];
	struct part_end pe = { .seen = 0 };
	if (start >= len)
		return 0;
	release_read(src);
	const char *nl = memchr(map + start, '\n', len - start);
	size_t body = nl ? (size_t)(nl - map) + 1 : len;
	const char *hit = NULL, *c;
	top_boundary(map + body, map + len, boundary, sizeof boundary);
	if (*boundary)
		pe.n = (size_t)snprintf(pe.close, sizeof pe.close, "\n--%s--", boundary);
	pe.from = map + body;
	for (size_t from = body - 1; !src->single && body < len; from = (size_t)(c - map) + 1) {
		c = memmem(map + from, len - from, "\nFrom ", 6);
		if (!c || message_starts(c, map + len, &pe)) {
			hit = c;
			break;
		}
	}
	size_t end = hit ? (size_t)(hit - map) + 1 : len;
	src->pos = end;
	size_t msg_len = end - body;
	/* the blank line before the next "From " belongs to the separator */
	if (end < len && msg_len >= 2 && map[end - 1] == '\n' && map[end - 2] == '\n')
		msg_len--;
	else if (end < len && msg_len >= 3 && map[end - 1] == '\n' && map[end - 2] == '\r' &&
		 map[end - 3] == '\n')
		msg_len -= 2;
	if (msg_len == 0) {
		snprintf(err, errlen, "%s:%zu: empty mbox message", src->path, start);
		return -1;
	}
	ssize_t got = copy_unescaped(src, map + body, msg_len);
	if (got < 0) {
		snprintf(err, errlen, "%s:%zu: out of memory", src->path, start);
		return -1;
	}
	item->data = src->buf;
	item->len = (size_t)got;
	item->origin = src->path;
	item->offset = (int64_t)start;
	item->envelope_date = from_line_date(map + start, body - start - (nl ? 1 : 0));
	if (!item->envelope_date)
		item->envelope_date = src->mtime;
	return 1;
}

/* mail_source_next - see mail.h */
int mail_source_next(struct mail_source *src, struct mail_item *item, char *err, size_t errlen)
{
	for (;;) {
		if (src->path && src->in_mbox) {
			int r = mbox_next(src, item, err, errlen);
			if (r != 0)
				return r;
		}
		close_current(src);
		int r = open_next(src, err, errlen);
		if (r <= 0)
			return r;
		if (!src->in_mbox) {
			item->data = src->map + src->bom;
			item->len = src->map_len - src->bom;
			item->origin = src->path;
			item->offset = -1;
			item->envelope_date = src->mtime;
			src->in_mbox = 0;
			src->pos = src->map_len;
			/* the map stays until the next call, which closes it */
			src->path = src->files[src->next_file - 1];
			return 1;
		}
	}
}

/* mail_looks_like_message - see mail.h */
int mail_looks_like_message(const char *data, size_t len)
{
	size_t i = 0;
	while (i < len && (data[i] == '\n' || data[i] == '\r'))
		i++;
	if (len - i >= 5 && memcmp(data + i, "From ", 5) == 0)
		return 1;
	return field_start(data + i, len - i);
}

/* mail_source_progress - see mail.h */
void mail_source_progress(const struct mail_source *src, uint64_t *done, uint64_t *total)
{
	*done = src->bytes_before + (src->in_mbox ? src->pos : 0);
	*total = src->bytes_total;
}

/* mail_source_skipped - see mail.h */
size_t mail_source_skipped(const struct mail_source *src, const char *const **out)
{
	*out = (const char *const *)src->skipped;
	return src->n_skipped;
}

/* mail_source_close - see mail.h */
void mail_source_close(struct mail_source *src)
{
	if (!src)
		return;
	close_current(src);
	for (size_t i = 0; i < src->n_files; i++)
		free(src->files[i]);
	free(src->files);
	for (size_t i = 0; i < src->n_skipped; i++)
		free(src->skipped[i]);
	free(src->skipped);
	free(src->sizes);
	free(src->buf);
	free(src->readbuf);
	free(src);
}
