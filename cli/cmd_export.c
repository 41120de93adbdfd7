/*
 * cmd_export.c - crmctl export: the store as JSON, JSON Lines, CSV or mbox
 *
 * storage/ hands over one record at a time (store_export) or one raw
 * source at a time (store_export_raw); this file only writes them: one
 * JSON document written piece by piece, one JSON object a line, one CSV
 * file per entity (RFC 4180: UTF-8, CRLF, quoted where needed), or mboxrd
 * with the original messages byte for byte.  Nothing is gathered, so
 * memory stays flat for any store.  The schema of every format is
 * crmilter-export(5).  A progress line on a terminal, and on stderr at the
 * end "exported N messages, T threads".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define EXPORT_USAGE \
	"usage: crmctl export --format json|jsonl|csv|mbox\n" \
	"         [--account DOMAIN | --contact ADDRESS | --deal KEY | --thread ID |\n" \
	"          --mailbox ADDRESS] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [-o PATH]\n" \
	"  -o PATH  the output file (default: stdout); for csv a folder (required)\n"
#define EXPORT_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
#define EXPORT_BUFSIZE    (256 * 1024)

enum export_format { EX_JSON, EX_JSONL, EX_CSV, EX_MBOX };

/* the record types in the order store_export() hands them, and their JSON sections */
static const char *const types[] = { "rule", "account", "contact", "deal", "thread", "message",
				     "link" };
static const char *const sections[] = { "rules", "accounts", "contacts", "deals", "threads",
					"messages", "links" };
#define N_SECTIONS ((int)(sizeof types / sizeof types[0]))

/* one CSV column: its header and where its value is in the record ("a.b";
 * "^id": the id of the record a child row belongs to) */
struct csv_col {
	const char *name;
	const char *path;
};

/* one CSV file: the records of TYPE, or the elements of their array ARRAY */
struct csv_spec {
	const char *file;
	const char *type;
	const char *array;
	const struct csv_col *cols;
};

#define C(n) { n, n }
static const struct csv_col rule_cols[] = { C("id"), C("file"), C("line"), C("text"), C("hash"),
					    { NULL, NULL } };
static const struct csv_col account_cols[] = { C("id"), C("domain"), C("name"), C("domains"),
					       C("rule"), { NULL, NULL } };
static const struct csv_col contact_cols[] = {
	C("id"), C("address"), C("name"), C("account"), C("first_seen"), C("last_seen"), C("sent"),
	C("received"), C("capture_rule"), { NULL, NULL } };
static const struct csv_col deal_cols[] = { C("id"), C("key"), C("name"), C("account"),
					    C("status"), C("contacts"), C("rule"), { NULL, NULL } };
static const struct csv_col thread_cols[] = {
	C("id"), C("subject"), C("first_date"), C("last_date"), C("messages"),
	{ "inside", "visibility.inside" }, { "outside", "visibility.outside" },
	{ "visibility_reason", "visibility.reason" }, { "visibility_rule", "visibility.rule" },
	C("unassigned"), { NULL, NULL } };
static const struct csv_col message_cols[] = {
	C("id"), C("thread"), C("message_id"), C("date"), C("direction"), C("subject"), C("size"),
	C("flags"), { "log", "log.status" }, { "log_reason", "log.reason" },
	{ "log_rule", "log.rule" }, { "inside", "visibility.inside" },
	{ "outside", "visibility.outside" }, { "visibility_reason", "visibility.reason" },
	{ "visibility_rule", "visibility.rule" }, C("untrusted"), C("in_reply_to"), C("parent"),
	C("headers"), C("body"), { "raw_mode", "raw.mode" }, { "raw_size", "raw.size" },
	{ NULL, NULL } };
static const struct csv_col participant_cols[] = { { "message", "^id" }, C("role"),
						   C("address"), C("name"), { NULL, NULL } };
static const struct csv_col attachment_cols[] = { { "message", "^id" }, C("filename"),
						  C("content_type"), C("size"), C("sha256"),
						  { NULL, NULL } };
static const struct csv_col source_cols[] = {
	{ "message", "^id" }, C("source"), C("origin"), C("queue_id"), C("mail_from"),
	C("client_addr"), C("client_name"), C("auth_authen"), C("daemon_name"), C("arrival"),
	{ NULL, NULL } };
static const struct csv_col link_cols[] = { C("id"), C("thread"), C("kind"), C("key"), C("rule"),
					    { NULL, NULL } };
#undef C

static const struct csv_spec csv_specs[] = {
	{ "rules.csv", "rule", NULL, rule_cols },
	{ "accounts.csv", "account", NULL, account_cols },
	{ "contacts.csv", "contact", NULL, contact_cols },
	{ "deals.csv", "deal", NULL, deal_cols },
	{ "threads.csv", "thread", NULL, thread_cols },
	{ "messages.csv", "message", NULL, message_cols },
	{ "participants.csv", "message", "participants", participant_cols },
	{ "attachments.csv", "message", "attachments", attachment_cols },
	{ "sources.csv", "message", "sources", source_cols },
	{ "links.csv", "link", NULL, link_cols },
};
#define N_CSV (sizeof csv_specs / sizeof csv_specs[0])

/* one export run */
struct export_run {
	enum export_format format;
	const char *path;              /* -o, or NULL: stdout */
	FILE *out;                     /* json, jsonl, mbox */
	FILE *csv[N_CSV];
	char *bufs[N_CSV + 1];         /* stdio buffers */
	int section;                   /* json: the open section, -1 before the first */
	int first;                     /* json: no record in the open section yet */
	uint64_t messages, threads, headers_only, no_raw, total;
	struct progress *progress;
	int io_errno;                  /* the first write failure, 0: none */
	const char *io_path;
};

/* ---- output files ---- */

/* open_out - create PATH (mode 0600: an export holds private mail) for writing; NULL, errno */
static FILE *open_out(const char *path, char **buf)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (fd >= 0 && !f)
		close(fd);
	if (f) {
		*buf = xmalloc(EXPORT_BUFSIZE);
		setvbuf(f, *buf, _IOFBF, EXPORT_BUFSIZE);
	}
	return f;
}

/* io_note - remember a write failure of NAME (errno, else EIO) unless one is known */
static void io_note(struct export_run *r, const char *name)
{
	if (!r->io_errno) {
		r->io_errno = errno ? errno : EIO;
		r->io_path = name;
	}
}

/* io_failed - 1 when a write to F (named PATH) failed, remembered */
static int io_failed(struct export_run *r, FILE *f, const char *path)
{
	if (!ferror(f))
		return 0;
	io_note(r, path);
	return 1;
}

/* open_outputs - the output file(s) of the run; CLI_OK or CLI_USAGE after printing why */
static int open_outputs(struct export_run *r)
{
	char path[4096];
	struct stat sb;

	if (r->format != EX_CSV) {
		if (!r->path) {
			r->out = stdout;
			return CLI_OK;
		}
		r->out = open_out(r->path, &r->bufs[N_CSV]);
		if (!r->out) {
			cli_error("export: %s: %s", r->path, strerror(errno));
			return CLI_USAGE;
		}
		return CLI_OK;
	}
	if (mkdir(r->path, 0700) < 0 && (errno != EEXIST || stat(r->path, &sb) < 0 ||
					 !S_ISDIR(sb.st_mode))) {
		cli_error("export: %s: %s", r->path, errno == EEXIST ? "not a folder" : strerror(errno));
		return CLI_USAGE;
	}
	for (size_t i = 0; i < N_CSV; i++) {
		snprintf(path, sizeof path, "%s/%s", r->path, csv_specs[i].file);
		r->csv[i] = open_out(path, &r->bufs[i]);
		if (!r->csv[i]) {
			cli_error("export: %s: %s", path, strerror(errno));
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

/* close_one - flush and close F (stdout stays open) */
static void close_one(struct export_run *r, FILE *f, const char *name)
{
	errno = 0;
	if (fflush(f) != 0 || ferror(f))
		io_note(r, name);
	if (f != stdout && fclose(f) != 0)
		io_note(r, name);
}

/* close_outputs - flush and close everything; 0, or -1 when a write failed */
static int close_outputs(struct export_run *r)
{
	if (r->out)
		close_one(r, r->out, r->path ? r->path : "stdout");
	for (size_t i = 0; i < N_CSV; i++)
		if (r->csv[i])
			close_one(r, r->csv[i], csv_specs[i].file);
	for (size_t i = 0; i <= N_CSV; i++)
		free(r->bufs[i]);
	return r->io_errno ? -1 : 0;
}

/* ---- JSON and JSON Lines ---- */

/* json_advance - close the open section and open the next ones up to TO */
static void json_advance(struct export_run *r, int to)
{
	while (r->section < to) {
		if (r->section >= 0)
			fputs("\n]", r->out);
		r->section++;
		if (r->section < N_SECTIONS) {
			fprintf(r->out, ",\n\"%s\": [", sections[r->section]);
			r->first = 1;
		}
	}
}

/* json_header - "{" and the header's members, one a line */
static void json_header(struct export_run *r, json_t *rec)
{
	const char *key;
	json_t *v;
	int n = 0;

	fputs("{", r->out);
	json_object_foreach(rec, key, v) {
		fprintf(r->out, "%s\n\"%s\": ", n++ ? "," : "", key);
		json_dumpf(v, r->out, EXPORT_JSON_FLAGS);
	}
}

/* json_record - one record in its section, or one line */
static void json_record(struct export_run *r, int idx, json_t *rec)
{
	if (r->format == EX_JSON) {
		json_advance(r, idx);
		fputs(r->first ? "\n" : ",\n", r->out);
		r->first = 0;
	}
	json_dumpf(rec, r->out, EXPORT_JSON_FLAGS);
	if (r->format == EX_JSONL)
		fputc('\n', r->out);
}

/* json_finish - close the last sections and the document */
static void json_finish(struct export_run *r)
{
	if (r->format != EX_JSON)
		return;
	json_advance(r, N_SECTIONS);
	fputs("\n}\n", r->out);
}

/* ---- CSV ---- */

/* csv_put - csv_field's writer: to the FILE ARG */
static void csv_put(void *arg, const char *p, size_t n)
{
	fwrite(p, 1, n, arg);
}

/* csv_out - one field as it is (the export keeps data exact: no formula guard) */
static void csv_out(FILE *f, const char *s, size_t len)
{
	csv_field(s, len, 0, csv_put, f);
}

/* csv_scalar - the text of a string, number or boolean into BUF; NULL for others */
static const char *csv_scalar(json_t *v, char *buf, size_t len, size_t *out)
{
	if (json_is_string(v)) {
		*out = json_string_length(v);
		return json_string_value(v);
	}
	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_real(v))
		snprintf(buf, len, "%.17g", json_real_value(v));
	else
		return NULL;
	*out = strlen(buf);
	return buf;
}

/* csv_joined - a list of strings and numbers as one field, joined by spaces */
static void csv_joined(FILE *f, json_t *list)
{
	char buf[64], *joined = NULL;
	const char *s;
	size_t i, len, n = 0;
	json_t *e;

	json_array_foreach(list, i, e) {
		s = csv_scalar(e, buf, sizeof buf, &len);
		joined = xrealloc(joined, n + len + 2);
		if (i)
			joined[n++] = ' ';
		memcpy(joined + n, s, len);
		n += len;
	}
	if (joined)
		csv_out(f, joined, n);
	free(joined);
}

/* csv_value - a value as one field: scalars as text, null empty, a list of
 * scalars joined by spaces, anything else as compact JSON */
static void csv_value(FILE *f, json_t *v)
{
	char buf[64], *dump;
	const char *s;
	size_t len, i;
	json_t *e;
	int scalars = json_is_array(v);

	if (!v || json_is_null(v))
		return;
	if ((s = csv_scalar(v, buf, sizeof buf, &len))) {
		csv_out(f, s, len);
		return;
	}
	json_array_foreach(v, i, e)
		if (!json_is_string(e) && !json_is_integer(e))
			scalars = 0;
	if (scalars) {
		csv_joined(f, v);
		return;
	}
	dump = json_dumps(v, EXPORT_JSON_FLAGS);
	if (dump)
		csv_out(f, dump, strlen(dump));
	free(dump);
}

/* csv_get - the value at PATH ("a" or "a.b") of REC, "^x" of PARENT; NULL when absent */
static json_t *csv_get(json_t *rec, json_t *parent, const char *path)
{
	const char *dot;
	char key[64];

	if (path[0] == '^')
		return json_object_get(parent, path + 1);
	dot = strchr(path, '.');
	if (!dot)
		return json_object_get(rec, path);
	snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
	return json_object_get(json_object_get(rec, key), dot + 1);
}

/* csv_row - one row of COLS from REC (PARENT for "^" columns), CRLF-terminated */
static void csv_row(FILE *f, const struct csv_col *cols, json_t *rec, json_t *parent)
{
	for (size_t i = 0; cols[i].name; i++) {
		if (i)
			fputc(',', f);
		csv_value(f, csv_get(rec, parent, cols[i].path));
	}
	fputs("\r\n", f);
}

/* csv_headers - the header row of every file */
static void csv_headers(struct export_run *r)
{
	for (size_t i = 0; i < N_CSV; i++) {
		for (size_t c = 0; csv_specs[i].cols[c].name; c++)
			fprintf(r->csv[i], "%s%s", c ? "," : "", csv_specs[i].cols[c].name);
		fputs("\r\n", r->csv[i]);
	}
}

/* csv_record - the rows of one record in every file that takes its type */
static void csv_record(struct export_run *r, const char *type, json_t *rec)
{
	size_t i, k;
	json_t *e;

	for (i = 0; i < N_CSV; i++) {
		if (strcmp(csv_specs[i].type, type) != 0)
			continue;
		if (!csv_specs[i].array) {
			csv_row(r->csv[i], csv_specs[i].cols, rec, NULL);
			continue;
		}
		json_array_foreach(json_object_get(rec, csv_specs[i].array), k, e)
			csv_row(r->csv[i], csv_specs[i].cols, e, rec);
	}
}

/* ---- the record callback ---- */

/* any_failed - 1 when a write of the run failed */
static int any_failed(struct export_run *r)
{
	if (r->out)
		return io_failed(r, r->out, r->path ? r->path : "stdout");
	for (size_t i = 0; i < N_CSV; i++)
		if (r->csv[i] && io_failed(r, r->csv[i], csv_specs[i].file))
			return 1;
	return 0;
}

/* on_header - the run's header: totals for progress; JSON writes it */
static void on_header(struct export_run *r, json_t *rec)
{
	json_t *c = json_object_get(rec, "counts");

	r->total = (uint64_t)json_integer_value(json_object_get(c, "messages"));
	if (r->format == EX_MBOX) {
		r->total -= (uint64_t)json_integer_value(json_object_get(c, "skipped"));
		r->threads = (uint64_t)json_integer_value(json_object_get(c, "threads"));
	}
	if (r->format == EX_JSON)
		json_header(r, rec);
	else if (r->format == EX_JSONL)
		json_record(r, -1, rec);
	else if (r->format == EX_CSV)
		csv_headers(r);
}

/* on_record - write one record (store_export_fn); 0, or -1 when writing failed */
static int on_record(const char *type, json_t *rec, void *arg)
{
	struct export_run *r = arg;
	int idx = -1;

	if (strcmp(type, "export") == 0) {
		on_header(r, rec);
		return any_failed(r) ? -1 : 0;
	}
	for (int i = 0; i < N_SECTIONS; i++)
		if (strcmp(type, types[i]) == 0)
			idx = i;
	if (idx < 0)
		return 0;	/* a record type this writer does not know: not written */
	if (strcmp(type, "thread") == 0)
		r->threads++;
	if (r->format == EX_CSV)
		csv_record(r, type, rec);
	else
		json_record(r, idx, rec);
	if (strcmp(type, "message") == 0) {
		r->messages++;
		progress_update(r->progress, r->messages, r->messages, r->total);
	}
	return any_failed(r) ? -1 : 0;
}

/* ---- mbox ---- */

/* mbox_from_line - "From SENDER DATE" (asctime, UTC) */
static void mbox_from_line(FILE *f, const struct store_export_raw *m)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					    "Aug", "Sep", "Oct", "Nov", "Dec" };
	const char *s = m->mail_from ? m->mail_from : "";
	time_t t = (time_t)m->date;
	struct tm tm;
	size_t n;

	while (*s == '<')
		s++;
	n = strlen(s);
	while (n && s[n - 1] == '>')
		n--;
	fputs("From ", f);
	if (n == 0)
		fputs("MAILER-DAEMON", f);	/* the null sender */
	for (size_t i = 0; i < n; i++)	/* the separator line must stay one word here */
		fputc((unsigned char)s[i] <= ' ' || s[i] == 0x7f ? '_' : s[i], f);
	if (!gmtime_r(&t, &tm)) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	fprintf(f, " %s %s %2d %02d:%02d:%02d %d\n", days[tm.tm_wday], months[tm.tm_mon],
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
}

/* mbox_body - the message with every /^>*From / line quoted by one more '>',
 * ending in a newline */
static void mbox_body(FILE *f, const char *p, size_t len)
{
	size_t i = 0, line, j;
	const char *nl;

	while (i < len) {
		nl = memchr(p + i, '\n', len - i);
		line = nl ? (size_t)(nl - (p + i)) + 1 : len - i;
		for (j = i; j < i + line && p[j] == '>'; j++)
			;
		if (i + line - j >= 5 && memcmp(p + j, "From ", 5) == 0)
			fputc('>', f);
		fwrite(p + i, 1, line, f);
		i += line;
	}
	if (len == 0 || p[len - 1] != '\n')
		fputc('\n', f);
}

/* on_raw - write one message (store_export_raw_fn); 0, or -1 when writing failed */
static int on_raw(const struct store_export_raw *m, void *arg)
{
	struct export_run *r = arg;
	int headers = m->data && strcmp(m->mode, "headers") == 0;

	if (!m->data) {
		r->no_raw++;
		progress_clear(r->progress);
		cli_error("export: message %" PRId64 " <%s>: no raw source kept (RawStorage %s):"
			  " not exported", m->id, m->message_id ? m->message_id : "", m->mode);
		return 0;
	}
	if (headers) {
		r->headers_only++;
		progress_clear(r->progress);
		cli_error("export: message %" PRId64 " <%s>: only the header block was kept"
			  " (RawStorage headers): exported without its body", m->id,
			  m->message_id ? m->message_id : "");
	}
	/* messages are separated by an empty line, which readers take off again */
	if (r->messages > 0)
		fputc('\n', r->out);
	mbox_from_line(r->out, m);
	mbox_body(r->out, m->data, m->len);
	r->messages++;
	progress_update(r->progress, r->messages + r->no_raw, r->messages + r->no_raw, r->total);
	return any_failed(r) ? -1 : 0;
}

/* ---- arguments ---- */

/* export_args - what the command line asked for */
struct export_args {
	enum export_format format;
	int have_format;
	const char *path;
	struct store_export_filter f;
	char *owned[3];                /* normalised copies of the filter strings */
};

/* parse_format - F as an export_format; -1 when unknown */
static int parse_format(const char *f)
{
	static const char *const names[] = { "json", "jsonl", "csv", "mbox" };

	for (int i = 0; i < 4; i++)
		if (strcmp(f, names[i]) == 0)
			return i;
	return -1;
}

/* parse_day - --since/--until DATE; UNTIL takes in the whole day of a plain date */
static int parse_day(const char *s, int until, int64_t *out)
{
	if (parse_date(s, out) < 0) {
		cli_error("export: bad date '%s' (YYYY-MM-DD, UTC)", s);
		return -1;
	}
	if (until && strlen(s) == 10)
		*out += 86400;
	return 0;
}

/* norm_addr - the normalised address of S kept in A; NULL (printed) when it is none */
static const char *norm_addr(struct export_args *a, int slot, const char *opt, const char *s)
{
	free(a->owned[slot]);
	a->owned[slot] = mail_addr_normalise(s);
	if (!a->owned[slot])
		cli_error("export: --%s: '%s' is not an address", opt, s);
	return a->owned[slot];
}

/* parse_filter_opt - one filter option CH with ARG into A; 0 or -1 (printed) */
static int parse_filter_opt(struct export_args *a, int ch, const char *arg)
{
	char *end;

	switch (ch) {
	case 'a':
		free(a->owned[0]);
		a->owned[0] = xstrdup(arg);
		for (char *p = a->owned[0]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		a->f.account = a->owned[0];
		return 0;
	case 'C':
		return (a->f.contact = norm_addr(a, 1, "contact", arg)) ? 0 : -1;
	case 'm':
		return (a->f.mailbox = norm_addr(a, 2, "mailbox", arg)) ? 0 : -1;
	case 'd':
		a->f.deal = arg;
		return 0;
	case 't':
		a->f.thread = strtoll(arg, &end, 10);
		if (*end || a->f.thread <= 0) {
			cli_error("export: --thread: '%s' is not a thread id", arg);
			return -1;
		}
		return 0;
	case 's':
		a->f.has_since = 1;
		return parse_day(arg, 0, &a->f.since);
	case 'u':
		a->f.has_until = 1;
		return parse_day(arg, 1, &a->f.until);
	}
	return -1;
}

/* export_opts - parse the options; 0, 1 for --help, -1 on a usage error (printed) */
static int export_opts(int argc, char **argv, struct export_args *a)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "account", required_argument, NULL, 'a' },
		{ "contact", required_argument, NULL, 'C' },
		{ "deal", required_argument, NULL, 'd' },
		{ "thread", required_argument, NULL, 't' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, n = 0;

	while ((ch = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(EXPORT_USAGE, stdout);
			return 1;
		}
		if (ch == 'f') {
			int fmt = parse_format(optarg);

			if (fmt < 0) {
				cli_error("export: unknown format '%s'", optarg);
				return -1;
			}
			a->format = (enum export_format)fmt;
			a->have_format = 1;
		} else if (ch == 'o') {
			a->path = optarg;
		} else if (ch == '?' || parse_filter_opt(a, ch, optarg) < 0) {
			return -1;
		}
		n += strchr("aCdtm", ch) != NULL;
	}
	if (optind < argc)
		cli_error("export: unexpected argument '%s'", argv[optind]);
	else if (!a->have_format)
		cli_error("export: --format is required");
	else if (n > 1)
		cli_error("export: give at most one of --account, --contact, --deal, --thread,"
			  " --mailbox");
	else if (a->format == EX_CSV && !a->path)
		cli_error("export: csv needs -o FOLDER (one file per entity)");
	else if (a->f.has_since && a->f.has_until && a->f.until <= a->f.since)
		cli_error("export: --until is before --since");
	else
		return 0;
	return -1;
}

/* export_run - open, export, close; a CLI status */
static int export_run(struct cli *cli, struct export_args *a)
{
	struct export_run r = { .format = a->format, .path = a->path, .section = -1 };
	char err[1024];
	struct store *st;
	int rc, status;

	/* the store first: a store that cannot be opened truncates no earlier export */
	if (!(st = cli_open_store(cli, 1)))
		return CLI_STORE;
	if (open_outputs(&r) != CLI_OK) {
		close_outputs(&r);
		store_close(st);
		return CLI_USAGE;
	}
	r.progress = progress_new();
	if (a->format == EX_MBOX)
		rc = store_export_raw(st, &a->f, on_record, on_raw, &r, err, sizeof err);
	else
		rc = store_export(st, &a->f, on_record, &r, err, sizeof err);
	if (rc == STORE_OK)
		json_finish(&r);
	progress_free(r.progress);
	store_close(st);
	status = close_outputs(&r) < 0 ? CLI_PARTIAL : CLI_OK;
	if (r.io_errno) {
		cli_error("export: %s: write failed: %s", r.io_path, strerror(r.io_errno));
	} else if (rc != STORE_OK) {
		cli_error("%s", err);
		return CLI_STORE;
	}
	fprintf(stderr, "exported %" PRIu64 " messages, %" PRIu64 " threads", r.messages,
		r.threads);
	if (r.headers_only || r.no_raw)
		fprintf(stderr, "; %" PRIu64 " of them with headers only, %" PRIu64 " without a"
			" raw source (not exported)", r.headers_only, r.no_raw);
	fputc('\n', stderr);
	if (r.headers_only || r.no_raw)
		status = CLI_PARTIAL;
	return status;
}

/* cmd_export - crmctl export --format F [filter] [--since D] [--until D] [-o PATH] */
int cmd_export(struct cli *cli, int argc, char **argv)
{
	struct export_args a;
	int r, status;

	memset(&a, 0, sizeof a);
	r = export_opts(argc, argv, &a);
	if (r == 0)
		status = export_run(cli, &a);
	else
		status = r > 0 ? CLI_OK : CLI_USAGE;
	if (r < 0)
		fputs(EXPORT_USAGE, stderr);
	for (int i = 0; i < 3; i++)
		free(a.owned[i]);
	return status;
}
