/*
 * parse.c - mail_parse: raw message bytes into a struct mail_record
 *
 * Public: mail_init, mail_parse, mail_record_free.
 * Private helpers shared with the other files: mail_parse_with, mail_warn, mail_unfold,
 * mail_header_text, mail_header_raw, mail_cap_utf8, mail_plain_body.
 *
 * One parse runs GMime over the bytes once, then fills the record in
 * order: identifiers, date, subject, addresses, decision headers, body and
 * attachments (body.c), quotes and snippet (quote.c), flags (flags.c).
 * Nothing in the input makes a parse fail: what GMime or we cannot make
 * sense of becomes a warning and a fallback value.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "mail_int.h"

/* Date before 1980-01-01 is absurd */
#define DATE_MIN 315532800LL
/* Date more than this far after the fallback or now (and the Received stamps) is absurd */
#define DATE_MAX_AHEAD (7LL * 24 * 3600)
/* Received stamps this far after the fallback are believed (this host's clock is behind) */
#define DATE_RECEIVED_AHEAD (366LL * 24 * 3600)
/* Received headers looked at */
#define DATE_MAX_RECEIVED 50
/* Authentication-Results headers kept */
#define MAX_AUTH_RESULTS 64
/* raw bytes of an unstructured header value decoded (the result is capped lower) */
#define RAW_VALUE_CAP (4 * MAIL_MAX_HEADER_VALUE)
/* hex digits of the content hash used in a synthetic Message-ID */
#define SYNTH_HEX 32

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* init_libs - initialise GMime and libxml2 (run once) */
static void init_libs(void)
{
	g_mime_init();
	xmlInitParser();
}

/* mail_init - initialise the libraries once per process; safe to call again */
void mail_init(void)
{
	pthread_once(&init_once, init_libs);
}

/* ---- strings ---- */

/*
 * mail_warn - add a printf-style warning to REC (made valid UTF-8, capped
 * at MAIL_MAX_WARNING_LEN bytes); beyond MAIL_MAX_WARNINGS it is dropped.
 */
void mail_warn(struct mail_record *rec, const char *fmt, ...)
{
	va_list ap;
	char *s, *valid;

	if (rec->n_warnings >= MAIL_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	valid = g_utf8_make_valid(s, -1);
	g_free(s);
	rec->warnings = g_renew(char *, rec->warnings, rec->n_warnings + 1);
	rec->warnings[rec->n_warnings++] = mail_cap_utf8(valid, MAIL_MAX_WARNING_LEN);
}

/* mail_cap_utf8 - cut S in place to at most CAP bytes on a UTF-8 boundary; returns S */
char *mail_cap_utf8(char *s, size_t cap)
{
	size_t n = strlen(s);

	if (n <= cap)
		return s;
	while (cap > 0 && ((unsigned char)s[cap] & 0xc0) == 0x80)
		cap--;
	s[cap] = '\0';
	return s;
}

/*
 * mail_unfold - one-line copy of a header value
 *
 * Line breaks are removed (a break not followed by white space becomes a
 * space), tabs and control characters become spaces, the ends are
 * trimmed, invalid UTF-8 is repaired and the result capped at CAP bytes.
 * Returns a new string (g_free()); NULL input gives "".
 */
char *mail_unfold(const char *value, size_t cap)
{
	GString *g = g_string_new(NULL);
	const char *p = value ? value : "";
	char *out;
	size_t start = 0;

	while (*p && g->len <= cap + 8) {
		unsigned char c = (unsigned char)*p++;

		if (c == '\r' || c == '\n') {
			if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
				g_string_append_c(g, ' ');
			continue;
		}
		g_string_append_c(g, (c < 0x20 || c == 0x7f) ? ' ' : (char)c);
	}
	while (start < g->len && g->str[start] == ' ')
		start++;
	while (g->len > start && g->str[g->len - 1] == ' ')
		g_string_truncate(g, g->len - 1);
	if (g_utf8_validate(g->str + start, (gssize)(g->len - start), NULL))
		out = g_strndup(g->str + start, g->len - start);
	else
		out = g_utf8_make_valid(g->str + start, (gssize)(g->len - start));
	g_string_free(g, TRUE);
	return mail_cap_utf8(out, cap);
}

/* mail_header_raw - raw value of the first NAME header of OBJ, or NULL */
const char *mail_header_raw(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *hl;
	GMimeHeader *h;

	if (obj == NULL)
		return NULL;
	hl = g_mime_object_get_header_list(obj);
	h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
	return h ? g_mime_header_get_raw_value(h) : NULL;
}

/*
 * mail_header_text - an unstructured header value as readable UTF-8 (only
 * the first RAW_VALUE_CAP raw bytes are read):
 * raw 8-bit bytes decoded (mail_to_utf8), encoded words decoded, unfolded,
 * capped at MAIL_MAX_HEADER_VALUE.  Returns a new string (g_free()).
 */
char *mail_header_text(struct mail_ctx *ctx, const char *raw_value)
{
	char *capped, *utf8, *decoded, *out;

	if (raw_value == NULL)
		return g_strdup("");
	capped = g_strndup(raw_value, RAW_VALUE_CAP);
	utf8 = mail_header_to_utf8(capped, ctx->charset);
	g_free(capped);
	decoded = g_mime_utils_header_decode_text(ctx->options, utf8);
	out = mail_unfold(decoded ? decoded : utf8, MAIL_MAX_HEADER_VALUE);
	g_free(decoded);
	g_free(utf8);
	return out;
}

/* ---- GMime ---- */

/* warning_text - what a GMime parser warning code means */
static const char *warning_text(GMimeParserWarning code)
{
	switch (code) {
	case GMIME_WARN_DUPLICATED_HEADER: return "duplicated header";
	case GMIME_WARN_DUPLICATED_PARAMETER: return "duplicated parameter";
	case GMIME_WARN_UNENCODED_8BIT_HEADER: return "unencoded 8-bit header";
	case GMIME_WARN_INVALID_CONTENT_TYPE: return "invalid content type";
	case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE: return "invalid RFC 2047 header value";
	case GMIME_WARN_MALFORMED_MULTIPART: return "malformed multipart";
	case GMIME_WARN_TRUNCATED_MESSAGE: return "truncated message";
	case GMIME_WARN_MALFORMED_MESSAGE: return "malformed message";
	case GMIME_CRIT_INVALID_HEADER_NAME: return "invalid header name";
	case GMIME_CRIT_CONFLICTING_HEADER: return "conflicting header";
	case GMIME_CRIT_CONFLICTING_PARAMETER: return "conflicting parameter";
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "multipart without boundary";
	case GMIME_WARN_INVALID_PARAMETER: return "invalid parameter";
	case GMIME_WARN_INVALID_ADDRESS_LIST: return "invalid address list";
	case GMIME_CRIT_NESTING_OVERFLOW: return "MIME nesting too deep";
	case GMIME_WARN_PART_WITHOUT_CONTENT: return "part without content";
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "part without headers or content";
	}
	return "parser warning";
}

/* on_gmime_warning - GMime's warning callback: one readable warning on the record */
static void on_gmime_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
			     gpointer user_data)
{
	struct mail_record *rec = user_data;
	char *shown = NULL;

	if (item != NULL && *item)
		shown = mail_unfold(item, 80);
	if (offset >= 0)
		mail_warn(rec, "offset %lld: %s%s%s", (long long)offset, warning_text(code),
			  shown ? ": " : "", shown ? shown : "");
	else
		mail_warn(rec, "%s%s%s", warning_text(code), shown ? ": " : "",
			  shown ? shown : "");
	g_free(shown);
}

/* options_new - parser options for one parse, warnings going to REC (free with g_mime_parser_options_free) */
static GMimeParserOptions *options_new(struct mail_record *rec)
{
	static const char *fallback[] = { "UTF-8", "windows-1252", NULL };
	GMimeParserOptions *o = g_mime_parser_options_new();

	g_mime_parser_options_set_address_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_rfc2047_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_fallback_charsets(o, fallback);
	g_mime_parser_options_set_warning_callback(o, on_gmime_warning, rec);
	return o;
}

/* parse_message - run GMime over the bytes; the message or NULL */
static GMimeMessage *parse_message(struct mail_ctx *ctx)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	stream = g_mime_stream_mem_new_with_byte_array(ctx->prepared);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, ctx->options);
	g_object_unref(parser);
	if (msg == NULL)
		mail_warn(ctx->rec, "not a message GMime can parse: kept as plain text");
	return msg;
}

/* part_charset - charset parameter of OBJ when it is a text part, or NULL */
static const char *part_charset(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	if (ct == NULL || g_ascii_strcasecmp(g_mime_content_type_get_media_type(ct), "text") != 0)
		return NULL;
	return g_mime_content_type_get_parameter(ct, "charset");
}

/* declared_charset - charset of the top part or the first text part, or NULL */
static const char *declared_charset(GMimeMessage *msg)
{
	GMimeObject *top = msg ? g_mime_message_get_mime_part(msg) : NULL;
	GMimePartIter *it;
	const char *cs = NULL;

	if (top == NULL)
		return NULL;
	if ((cs = part_charset(top)) != NULL || !GMIME_IS_MULTIPART(top))
		return cs;
	it = g_mime_part_iter_new(top);
	do {
		GMimeObject *cur = g_mime_part_iter_get_current(it);

		if (cur != NULL && !GMIME_IS_MULTIPART(cur))
			cs = part_charset(cur);
	} while (cs == NULL && g_mime_part_iter_next(it));
	g_mime_part_iter_free(it);
	return cs;
}

/* ---- identifiers ---- */

/* id_clean - an id without <>, white space or control bytes, valid UTF-8; NULL when empty */
static char *id_clean(const char *s, size_t n)
{
	GString *g = g_string_sized_new(n + 1);
	char *out;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c > ' ' && c != 0x7f && c != '<' && c != '>')
			g_string_append_c(g, (char)c);
	}
	if (g->len == 0) {
		g_string_free(g, TRUE);
		return NULL;
	}
	out = g_utf8_make_valid(g->str, (gssize)g->len);
	g_string_free(g, TRUE);
	return mail_cap_utf8(out, MAIL_MAX_HEADER_VALUE);
}

/*
 * id_list - the message ids of a header value, in order, into ARR
 *
 * Ids are the "<...>" tokens; a value with no '<' at all is read as words,
 * those holding '@' being ids.  Duplicates (and SELF) are skipped.
 */
static void id_list(const char *value, GPtrArray *arr, const char *self)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	const char *p = value;
	int angled = strchr(value, '<') != NULL;

	for (guint i = 0; i < arr->len; i++)
		g_hash_table_add(seen, arr->pdata[i]);
	while (*p) {
		const char *start, *end;
		char *id;

		if (angled) {
			if ((start = strchr(p, '<')) == NULL)
				break;
			start++;
			end = start + strcspn(start, "<>");
		} else {
			start = p + strspn(p, " \t\r\n,;");
			end = start + strcspn(start, " \t\r\n,;");
			if (start == end)
				break;
			if (memchr(start, '@', (size_t)(end - start)) == NULL) {
				p = end;
				continue;
			}
		}
		p = *end == '>' ? end + 1 : end;
		id = id_clean(start, (size_t)(end - start));
		if (id == NULL || (self && strcmp(id, self) == 0) || g_hash_table_contains(seen, id)) {
			g_free(id);
			continue;
		}
		g_ptr_array_add(arr, id);
		g_hash_table_add(seen, id);
	}
	g_hash_table_destroy(seen);
}

/* message_id_of - normalised Message-ID of a header value, or NULL */
static char *message_id_of(const char *value)
{
	const char *lt, *gt;

	if (value == NULL)
		return NULL;
	lt = strchr(value, '<');
	if (lt != NULL) {
		gt = strchr(lt + 1, '>');
		return id_clean(lt + 1, gt ? (size_t)(gt - lt - 1) : strlen(lt + 1));
	}
	return id_clean(value, strlen(value));
}

/* hash_value - feed a header value to CK, unfolded with white space collapsed */
static void hash_value(GChecksum *ck, const char *tag, const char *value)
{
	GString *g = g_string_new(tag);
	int space = 0;

	g_string_append_c(g, '\0');
	for (const char *p = value ? value : ""; *p; p++) {
		if (g_ascii_isspace(*p)) {
			space = 1;
			continue;
		}
		if (space)
			g_string_append_c(g, ' ');
		space = 0;
		g_string_append_c(g, *p);
	}
	g_string_append_c(g, '\n');
	g_checksum_update(ck, (const guchar *)g->str, (gssize)g->len);
	g_string_free(g, TRUE);
}

/* hash_headers - feed every NAME header of the message to CK (leading space dropped) */
static void hash_headers(GChecksum *ck, GMimeMessage *msg, const char *name)
{
	GMimeHeaderList *hl;
	int n;

	if (msg == NULL)
		return;
	hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	n = g_mime_header_list_get_count(hl);
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *v = g_mime_header_get_raw_value(h);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
			continue;
		while (v && g_ascii_isspace(*v))
			v++;
		hash_value(ck, name, v);
	}
}

/* hash_body - feed the raw body to CK with CRLF as LF and trailing line ends dropped */
static void hash_body(GChecksum *ck, const char *body, size_t len)
{
	size_t seg = 0;

	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i + 1 < len; i++) {
		if (body[i] == '\r' && body[i + 1] == '\n') {
			g_checksum_update(ck, (const guchar *)body + seg, (gssize)(i - seg));
			seg = i + 1;
		}
	}
	g_checksum_update(ck, (const guchar *)body + seg, (gssize)(len - seg));
}

/*
 * synthetic_id - "<32 hex of sha256>@crmilter.invalid" (without <>) over
 * From, To, Cc, Date, Subject and the body, so the same message read with
 * LF or CRLF line ends and other trace headers gets the same id.
 */
static char *synthetic_id(struct mail_ctx *ctx)
{
	static const char *names[] = { "From", "To", "Cc", "Date", "Subject", NULL };
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	size_t hl = ctx->body_off;
	char *out;

	for (size_t i = 0; names[i]; i++)
		hash_headers(ck, ctx->message, names[i]);
	g_checksum_update(ck, (const guchar *)"body", 5);
	if (hl <= ctx->len)
		hash_body(ck, ctx->raw + hl, ctx->len - hl);
	out = g_strdup_printf("%.*s@crmilter.invalid", SYNTH_HEX, g_checksum_get_string(ck));
	g_checksum_free(ck);
	return out;
}

/* fill_ids - Message-ID (or a synthetic one), In-Reply-To and References */
static void fill_ids(struct mail_ctx *ctx)
{
	struct mail_record *rec = ctx->rec;
	GMimeObject *obj = ctx->message ? GMIME_OBJECT(ctx->message) : NULL;
	GPtrArray *arr;
	const char *v;

	rec->message_id = message_id_of(mail_header_raw(obj, "Message-ID"));
	if (rec->message_id == NULL) {
		rec->message_id = synthetic_id(ctx);
		rec->flags |= MAIL_NO_MSGID;
		mail_warn(rec, "Message-ID missing: synthetic id %s", rec->message_id);
	}
	if ((v = mail_header_raw(obj, "In-Reply-To")) != NULL) {
		arr = g_ptr_array_new();
		id_list(v, arr, NULL);
		rec->n_in_reply_to = arr->len;
		if (arr->len > 0)
			rec->in_reply_to = g_strdup(arr->pdata[0]);
		g_ptr_array_set_free_func(arr, g_free);
		g_ptr_array_free(arr, TRUE);
	}
	if ((v = mail_header_raw(obj, "References")) != NULL) {
		arr = g_ptr_array_new();
		id_list(v, arr, rec->message_id);
		if (arr->len > MAIL_MAX_REFERENCES) {
			guint drop = arr->len - MAIL_MAX_REFERENCES;

			for (guint i = 0; i < drop; i++)
				g_free(arr->pdata[i]);
			g_ptr_array_remove_range(arr, 0, drop);
		}
		rec->n_references = arr->len;
		rec->references = (char **)g_ptr_array_free(arr, FALSE);
	}
}

/* ---- date ---- */

/*
 * received_latest - the latest time stamp of the message's Received
 * headers (the part after the last ';') that is no more than
 * DATE_RECEIVED_AHEAD after BASE, or BASE when none is later.  The relays
 * that wrote them each have a clock of their own: a Date they agree with
 * is not absurd because this host's clock is behind.
 */
static int64_t received_latest(GMimeMessage *msg, int64_t base)
{
	GMimeHeaderList *hl;
	int64_t latest = base, t;
	int n, seen = 0;

	if (msg == NULL)
		return base;
	hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	n = g_mime_header_list_get_count(hl);
	for (int i = 0; i < n && seen < DATE_MAX_RECEIVED; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *v = g_mime_header_get_raw_value(h), *semi;
		GDateTime *dt;
		char *when;

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), "Received") != 0 || !v ||
		    !(semi = strrchr(v, ';')))
			continue;
		seen++;
		when = mail_unfold(semi + 1, 200);
		dt = g_mime_utils_header_decode_date(when);
		g_free(when);
		if (!dt)
			continue;
		t = g_date_time_to_unix(dt);
		g_date_time_unref(dt);
		if (t > latest && t <= base + DATE_RECEIVED_AHEAD)
			latest = t;
	}
	return latest;
}

/*
 * cut_open_comment - end S (in place) before a comment that is never closed,
 * which GMime would read as a date at midnight; 1 when it did
 */
static int cut_open_comment(char *s)
{
	char *open = NULL;
	int depth = 0;

	for (char *p = s; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '(' && depth++ == 0)
			open = p;
		else if (*p == ')' && depth > 0)
			depth--;
	}
	if (depth == 0 || !open)
		return 0;
	*open = '\0';
	return 1;
}

/* twelve_hour - "06:09:22 PM" in S (in place) made "18:09:22"; GMime reads
 * the time and drops the PM.  The result is never longer than S. */
static void twelve_hour(char *s)
{
	for (char *p = s; *p; p++) {
		int h, m, n = 0;

		if (!g_ascii_isdigit(*p) || (p > s && g_ascii_isdigit(p[-1])) ||
		    sscanf(p, "%2d:%2d%n", &h, &m, &n) != 2 || h < 1 || h > 12)
			continue;
		int digits = p[1] == ':' ? 1 : 2;
		char *ap = p + n;
		while (*ap == ':' || g_ascii_isdigit(*ap))
			ap++;
		while (*ap == ' ')
			ap++;
		int pm = g_ascii_strncasecmp(ap, "PM", 2) == 0, am = g_ascii_strncasecmp(ap, "AM", 2) == 0;
		if ((!pm && !am) || g_ascii_isalnum(ap[2]))
			continue;
		char *out = g_strdup_printf("%.*s%02d%.*s%s", (int)(p - s), s, pm ? h % 12 + 12 : h % 12,
					    (int)(ap - p - digits), p + digits, ap + 2);
		strcpy(s, out);
		g_free(out);
		return;
	}
}

/*
 * posix_zone - when S ends in a zone named like "EST5EDT" (which GMime reads
 * as +0000), cut it (in place) and return it (a new string), else NULL
 */
static char *posix_zone(char *s)
{
	char *last = strrchr(s, ' '), *p;

	if (!last)
		return NULL;
	p = last + 1;
	while (g_ascii_isalpha(*p))
		p++;
	if (p - last - 1 < 3 || !g_ascii_isdigit(*p))
		return NULL;
	while (g_ascii_isdigit(*p))
		p++;
	while (g_ascii_isalpha(*p))
		p++;
	if (*p)
		return NULL;
	char *zone = g_strdup(last + 1);
	*last = '\0';
	return zone;
}

/*
 * decode_date - VALUE as a date, with what GMime misreads in real mail put
 * right first: a 12-hour time with AM or PM, a zone such as EST5EDT
 * (its offset on that day, from the time zone database), a comment never
 * closed (cut, with a warning on REC).  Returns a new GDateTime, or NULL.
 */
static GDateTime *decode_date(const char *value, struct mail_record *rec)
{
	char *s = g_strdup(value), *zone;
	GDateTime *dt, *fixed = NULL;

	if (cut_open_comment(s))
		mail_warn(rec, "Date has a comment that is never closed: \"%s\": read without it", value);
	twelve_hour(s);
	zone = posix_zone(s);
	dt = g_mime_utils_header_decode_date(s);
	if (dt && zone) {
		GTimeZone *tz = g_time_zone_new_identifier(zone);

		if (tz) {
			fixed = g_date_time_new(tz, g_date_time_get_year(dt), g_date_time_get_month(dt),
						g_date_time_get_day_of_month(dt), g_date_time_get_hour(dt),
						g_date_time_get_minute(dt), g_date_time_get_second(dt));
			g_time_zone_unref(tz);
		} else {
			mail_warn(rec, "Date has an unknown zone \"%s\": read as UTC", zone);
		}
	}
	if (fixed) {
		g_date_time_unref(dt);
		dt = fixed;
	}
	g_free(zone);
	g_free(s);
	return dt;
}

/*
 * fill_date - Date in UTC seconds, or the fallback with MAIL_BAD_DATE and
 * a warning.  A Date is absurd before DATE_MIN, or more than
 * DATE_MAX_AHEAD after both the fallback (arrival, or now) and the latest
 * Received time stamp (received_latest): this host's clock alone never
 * makes a correct Date absurd.
 */
static void fill_date(struct mail_ctx *ctx, const struct mail_parse_opts *opts)
{
	struct mail_record *rec = ctx->rec;
	int64_t base = opts && opts->fallback_date > 0 ? opts->fallback_date : (int64_t)time(NULL);
	const char *raw = mail_header_raw(ctx->message ? GMIME_OBJECT(ctx->message) : NULL, "Date");
	GDateTime *dt = NULL;
	char *value;

	if (raw == NULL) {
		mail_warn(rec, "Date missing: fallback date used");
		goto fallback;
	}
	value = mail_unfold(raw, 200);
	dt = decode_date(value, rec);
	if (dt == NULL) {
		mail_warn(rec, "Date unreadable: \"%s\": fallback date used", value);
		g_free(value);
		goto fallback;
	}
	rec->date = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	if (rec->date >= DATE_MIN && (rec->date <= base + DATE_MAX_AHEAD ||
				      rec->date <= received_latest(ctx->message, base) + DATE_MAX_AHEAD)) {
		g_free(value);
		return;
	}
	mail_warn(rec, "Date absurd: \"%s\": fallback date used", value);
	g_free(value);
fallback:
	rec->date = base;
	rec->flags |= MAIL_BAD_DATE;
}

/* ---- decision headers ---- */

/* header_value - unfolded, decoded value of the first NAME header, or NULL */
static char *header_value(struct mail_ctx *ctx, const char *name)
{
	const char *raw = mail_header_raw(GMIME_OBJECT(ctx->message), name);

	return raw ? mail_header_text(ctx, raw) : NULL;
}

/* return_path_of - bare Return-Path address, "" for the null sender */
static char *return_path_of(struct mail_ctx *ctx)
{
	char *v = header_value(ctx, "Return-Path"), *addr, *lt, *gt;

	if (v == NULL)
		return NULL;
	if ((addr = mail_addr_normalise(v)) != NULL) {
		char *out = g_strdup(addr);

		free(addr);
		g_free(v);
		return out;
	}
	lt = strchr(v, '<');
	if (lt != NULL) {
		gt = strchr(lt, '>');
		if (gt != NULL)
			*gt = '\0';
		memmove(v, lt + 1, strlen(lt + 1) + 1);
	}
	g_strstrip(v);
	return v;
}

/* fill_headers - the decision headers of the outer message */
static void fill_headers(struct mail_ctx *ctx)
{
	struct mail_headers *h = &ctx->rec->hdr;
	GMimeHeaderList *hl;
	GPtrArray *ar;
	int n;

	if (ctx->message == NULL)
		return;
	h->list_id = header_value(ctx, "List-Id");
	h->list_unsubscribe = header_value(ctx, "List-Unsubscribe");
	h->precedence = header_value(ctx, "Precedence");
	h->auto_submitted = header_value(ctx, "Auto-Submitted");
	h->x_auto_response_suppress = header_value(ctx, "X-Auto-Response-Suppress");
	h->sensitivity = header_value(ctx, "Sensitivity");
	h->thread_index = header_value(ctx, "Thread-Index");
	h->return_path = return_path_of(ctx);
	hl = g_mime_object_get_header_list(GMIME_OBJECT(ctx->message));
	n = g_mime_header_list_get_count(hl);
	ar = g_ptr_array_new();
	for (int i = 0; i < n && ar->len < MAX_AUTH_RESULTS; i++) {
		GMimeHeader *hd = g_mime_header_list_get_header_at(hl, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(hd), "Authentication-Results") == 0)
			g_ptr_array_add(ar, mail_header_text(ctx, g_mime_header_get_raw_value(hd)));
	}
	h->n_auth_results = ar->len;
	h->auth_results = (char **)g_ptr_array_free(ar, ar->len == 0);
}

/* fill_subject - decoded Subject, "" when missing */
static void fill_subject(struct mail_ctx *ctx)
{
	const char *raw = mail_header_raw(ctx->message ? GMIME_OBJECT(ctx->message) : NULL, "Subject");

	ctx->rec->subject = raw ? mail_header_text(ctx, raw) : g_strdup("");
}

/* fill_addrs - the six address headers */
static void fill_addrs(struct mail_ctx *ctx)
{
	struct mail_record *rec = ctx->rec;

	mail_addrs_from_header(ctx, "From", &rec->from);
	mail_addrs_from_header(ctx, "Sender", &rec->sender);
	mail_addrs_from_header(ctx, "Reply-To", &rec->reply_to);
	mail_addrs_from_header(ctx, "To", &rec->to);
	mail_addrs_from_header(ctx, "Cc", &rec->cc);
	mail_addrs_from_header(ctx, "Bcc", &rec->bcc);
}

/* ---- raw layout ---- */

/*
 * header_block_len - bytes of RAW up to and including its first empty
 * line (LF, CRLF, or CR in a message without any LF), or LEN
 */
static size_t header_block_len(const char *raw, size_t len)
{
	char eol = memchr(raw, '\n', len) != NULL ? '\n' : '\r';
	size_t i = 0;

	while (i < len) {
		const char *nl;

		if (raw[i] == eol)
			return i + 1;
		if (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n')
			return i + 2;
		nl = memchr(raw + i, eol, len - i);
		if (nl == NULL)
			break;
		i = (size_t)(nl - raw) + 1;
	}
	return len;
}

/* mail_plain_body - the raw bytes after the header block as the body text */
void mail_plain_body(struct mail_ctx *ctx)
{
	struct mail_record *rec = ctx->rec;
	size_t off = ctx->body_off < ctx->len ? ctx->body_off : 0;
	size_t n = ctx->len - off;
	GString *g;
	char *text;

	if (n > MAIL_MAX_BODY_TEXT) {
		n = MAIL_MAX_BODY_TEXT;
		mail_warn(rec, "body text cut at %d bytes", MAIL_MAX_BODY_TEXT);
	}
	text = mail_to_utf8(ctx->raw + off, n, NULL);
	g = g_string_new(text);
	g_free(text);
	mail_text_normalise_newlines(g);
	rec->body_len = g->len;
	rec->body = g_string_free(g, FALSE);
}

/* trim_body_end - drop white space at the end of the body text */
static void trim_body_end(struct mail_record *rec)
{
	while (rec->body_len > 0 && g_ascii_isspace(rec->body[rec->body_len - 1]))
		rec->body[--rec->body_len] = '\0';
}

/*
 * mail_parse_with - mail_parse, and when CAPTURE is not NULL the decoded
 * bytes of attachment CAPTURE->index kept on the way (attach.c)
 *
 * Returns 0 with *out set (free with mail_record_free()), or -1 with *out
 * NULL when len is 0.  GLib aborts when memory runs out.
 */
int mail_parse_with(const char *raw, size_t len, const struct mail_parse_opts *opts,
		    struct mail_capture *capture, struct mail_record **out)
{
	struct mail_ctx ctx;
	struct mail_record *rec;
	GByteArray *prepared;
	unsigned closed;

	*out = NULL;
	if (raw == NULL || len == 0)
		return -1;
	mail_init();
	rec = g_new0(struct mail_record, 1);
	memset(&ctx, 0, sizeof(ctx));
	ctx.rec = rec;
	ctx.capture = capture;
	prepared = mail_prepare(raw, len, &closed);
	ctx.prepared = prepared;
	ctx.raw = (const char *)prepared->data;
	ctx.len = prepared->len;
	ctx.body_off = header_block_len(ctx.raw, ctx.len);
	rec->size = len;
	rec->header_len = header_block_len(raw, len);
	if (closed > 0)
		mail_warn(rec, "%u header block%s ended by base64 data without a blank line: read as content",
			  closed, closed == 1 ? "" : "s");
	ctx.options = options_new(rec);
	ctx.message = parse_message(&ctx);
	ctx.charset = declared_charset(ctx.message);
	fill_ids(&ctx);
	fill_date(&ctx, opts);
	fill_subject(&ctx);
	fill_addrs(&ctx);
	fill_headers(&ctx);
	if (ctx.message != NULL)
		mail_body_walk(&ctx);
	else
		mail_plain_body(&ctx);
	if (rec->body == NULL)
		rec->body = g_strdup("");
	trim_body_end(rec);
	mail_quotes_find(rec);
	rec->snippet = mail_snippet_make(rec);
	rec->flags |= mail_flags_detect(&ctx);
	if (opts != NULL && opts->truncated)
		rec->flags |= MAIL_TRUNCATED;
	if (ctx.message != NULL)
		g_object_unref(ctx.message);
	g_mime_parser_options_free(ctx.options);
	g_byte_array_free(prepared, TRUE);
	*out = rec;
	return 0;
}

/* mail_parse - parse raw bytes into a new record (see mail.h) */
int mail_parse(const char *raw, size_t len, const struct mail_parse_opts *opts,
	       struct mail_record **out)
{
	return mail_parse_with(raw, len, opts, NULL, out);
}

/* free_strv - free N strings and the vector */
static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g_free(v[i]);
	g_free(v);
}

/* mail_record_free - free a record and everything in it; NULL is fine */
void mail_record_free(struct mail_record *rec)
{
	struct mail_headers *h;

	if (rec == NULL)
		return;
	h = &rec->hdr;
	g_free(rec->message_id);
	g_free(rec->in_reply_to);
	free_strv(rec->references, rec->n_references);
	g_free(rec->subject);
	mail_addrs_free(&rec->from);
	mail_addrs_free(&rec->sender);
	mail_addrs_free(&rec->reply_to);
	mail_addrs_free(&rec->to);
	mail_addrs_free(&rec->cc);
	mail_addrs_free(&rec->bcc);
	g_free(rec->body);
	g_free(rec->quotes);
	free(rec->snippet);
	for (size_t i = 0; i < rec->n_attachments; i++) {
		g_free(rec->attachments[i].filename);
		g_free(rec->attachments[i].content_type);
	}
	g_free(rec->attachments);
	g_free(h->list_id);
	g_free(h->list_unsubscribe);
	g_free(h->precedence);
	g_free(h->auto_submitted);
	g_free(h->x_auto_response_suppress);
	g_free(h->sensitivity);
	g_free(h->thread_index);
	g_free(h->return_path);
	free_strv(h->auth_results, h->n_auth_results);
	free_strv(rec->warnings, rec->n_warnings);
	g_free(rec);
}
