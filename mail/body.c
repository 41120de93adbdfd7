/*
 * body.c - the MIME walk: text body, attachments and report parts
 *
 * mail_body_walk() visits every part of the outer message once, recursing
 * into multiparts and into forwarded message/rfc822 parts.  Outside
 * forwarded messages the first inline text/plain part becomes the body
 * (else the first inline text/html, made readable by html.c); every other
 * leaf that is not an inline text alternative is listed as an attachment
 * with its decoded size and sha256, computed by streaming the decoded bytes
 * through a checksum filter into a null stream, so no part is ever held in
 * memory (transport line ends of 7bit/8bit/QP parts count as LF).  A forwarded message is listed as one message/rfc822 attachment
 * and its own attachments follow it; its headers and text never become the
 * outer message's.  What flags.c needs (report types) is noted on the way.
 * A winmail.dat (application/ms-tnef) part is opened by tnef.c: its files
 * are listed in its place and its body is the text when no part is.
 * When GMime found no leaf part at all (a multipart it could not split),
 * the raw bytes after the header block are used as the text.
 *
 * Private: mail_body_walk, mail_text_normalise_newlines.
 */
#include <iconv.h>
#include <string.h>

#include "mail_int.h"

/* bytes of HTML we hand to libxml2 */
#define MAX_HTML_INPUT (8 * MAIL_MAX_BODY_TEXT)
/* bytes kept of an attachment file name */
#define MAX_FILENAME 1024

struct walk {
	struct mail_ctx *ctx;
	GMimeTextPart *plain;  /* first inline text/plain outside rfc822 (not owned) */
	GMimeTextPart *html;   /* first inline text/html outside rfc822 (not owned) */
	int full;              /* MAIL_MAX_ATTACHMENTS reached */
	int deep;              /* warned about depth */
	int leaves;            /* leaf parts met outside forwarded messages */
};

/* mail_text_normalise_newlines - CRLF and lone CR become LF, NUL a space, in place */
void mail_text_normalise_newlines(GString *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->len; i++) {
		char c = s->str[i];

		if (c == '\r') {
			if (i + 1 < s->len && s->str[i + 1] == '\n')
				continue;
			c = '\n';
		} else if (c == '\0') {
			c = ' ';
		}
		s->str[j++] = c;
	}
	g_string_truncate(s, j);
}

/* is_type - 1 when OBJ's content type is TYPE/SUBTYPE (SUBTYPE "*" for any) */
static int is_type(GMimeObject *obj, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

/* is_attachment_disposition - 1 when OBJ says Content-Disposition: attachment */
static int is_attachment_disposition(GMimeObject *obj)
{
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);

	return cd != NULL && g_mime_content_disposition_is_attachment(cd);
}

/*
 * raw_type_broken - OBJ's Content-Type header is there but names no
 * "type/subtype" ("application-x-gzip; name=..."): GMime then reads it as
 * text/plain and drops its parameters
 */
static int raw_type_broken(GMimeObject *obj)
{
	const char *v = g_mime_object_get_header(obj, "Content-Type");
	size_t n;

	if (v == NULL)
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strcspn(v, ";");
	return n > 0 && memchr(v, '/', n) == NULL;
}

/* raw_name - the name= parameter of OBJ's raw Content-Type, decoded (g_free()), or NULL */
static char *raw_name(GMimeObject *obj)
{
	const char *v = g_mime_object_get_header(obj, "Content-Type"), *p;
	char *word, *out;
	size_t n;

	for (p = v; p && (p = strchr(p, ';')) != NULL; p++) {
		const char *q = p + 1;

		while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			q++;
		if (g_ascii_strncasecmp(q, "name=", 5) != 0)
			continue;
		q += 5;
		n = *q == '"' ? strcspn(++q, "\"") : strcspn(q, "; \t\r\n");
		word = g_strndup(q, n);
		out = g_mime_utils_header_decode_text(NULL, word);
		g_free(word);
		return out;
	}
	return NULL;
}

/* part_filename - decoded, cleaned file name of OBJ (g_free()) or NULL */
static char *part_filename(GMimeObject *obj)
{
	const char *name;
	char *raw, *out;

	if (GMIME_IS_PART(obj))
		name = g_mime_part_get_filename(GMIME_PART(obj));
	else if ((name = g_mime_object_get_content_disposition_parameter(obj, "filename")) == NULL)
		name = g_mime_object_get_content_type_parameter(obj, "name");
	if (name != NULL && *name != '\0')
		return mail_unfold(name, MAX_FILENAME);
	if (!raw_type_broken(obj) || (raw = raw_name(obj)) == NULL)
		return NULL;
	out = *raw ? mail_unfold(raw, MAX_FILENAME) : NULL;
	g_free(raw);
	return out;
}

/* mime_type - "type/subtype" of OBJ in lower case (g_free()) */
static char *mime_type(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *s, *lower, *out;

	if (ct == NULL || raw_type_broken(obj))
		return g_strdup("application/octet-stream");
	s = g_mime_content_type_get_mime_type(ct);
	lower = g_ascii_strdown(s, -1);
	g_free(s);
	out = mail_unfold(lower, 255);
	g_free(lower);
	return out;
}

/*
 * line_ends_are_transport - 1 when OBJ's line ends belong to the transport
 * (7bit, 8bit, quoted-printable, or a message part) rather than to its
 * content (base64, uuencode, binary)
 */
static int line_ends_are_transport(GMimeObject *obj)
{
	if (!GMIME_IS_PART(obj))
		return 1;
	switch (g_mime_part_get_content_encoding(GMIME_PART(obj))) {
	case GMIME_CONTENT_ENCODING_BASE64:
	case GMIME_CONTENT_ENCODING_UUENCODE:
	case GMIME_CONTENT_ENCODING_BINARY:
		return 0;
	default:
		return 1;
	}
}

/*
 * hash_object - decoded size and sha256 of OBJ, streamed
 *
 * A part's content is decoded through a checksum filter into a null
 * stream; a message part writes its message.  Nothing is kept in memory.
 * Where line ends are the transport's they are counted as LF, so the same
 * attachment read from an mbox (LF) or from the MTA (CRLF) hashes alike.
 */
static void hash_object(GMimeObject *obj, uint64_t *size, char hex[65])
{
	GMimeStream *null = g_mime_stream_null_new();
	GMimeStream *filtered = g_mime_stream_filter_new(null);
	GMimeFilter *ck = g_mime_filter_checksum_new(G_CHECKSUM_SHA256);
	char *digest;

	if (line_ends_are_transport(obj)) {
		GMimeFilter *lf = g_mime_filter_dos2unix_new(FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), lf);
		g_object_unref(lf);
	}
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), ck);
	if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(obj));

		if (dw != NULL)
			g_mime_data_wrapper_write_to_stream(dw, filtered);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (m != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, filtered);
	}
	g_mime_stream_flush(filtered);
	*size = GMIME_STREAM_NULL(null)->written;
	digest = g_mime_filter_checksum_get_string(GMIME_FILTER_CHECKSUM(ck));
	g_strlcpy(hex, digest ? digest : "", 65);
	g_free(digest);
	g_object_unref(ck);
	g_object_unref(filtered);
	g_object_unref(null);
}

/* add_attachment - list OBJ as an attachment (warns once when the list is full) */
static void add_attachment(struct walk *w, GMimeObject *obj)
{
	struct mail_record *rec = w->ctx->rec;
	struct mail_attachment *a;

	if (w->full)
		return;
	if (rec->n_attachments >= MAIL_MAX_ATTACHMENTS) {
		mail_warn(rec, "more than %d attachments, the rest not listed", MAIL_MAX_ATTACHMENTS);
		w->full = 1;
		return;
	}
	rec->attachments = g_renew(struct mail_attachment, rec->attachments, rec->n_attachments + 1);
	a = &rec->attachments[rec->n_attachments++];
	memset(a, 0, sizeof(*a));
	a->filename = part_filename(obj);
	a->content_type = mime_type(obj);
	hash_object(obj, &a->size, a->sha256);
}

/* note_report_part - remember report parts of the outer message for flags.c */
static void note_report_part(struct walk *w, GMimeObject *obj)
{
	struct mail_walk_facts *f = &w->ctx->facts;

	if (is_type(obj, "message", "delivery-status") ||
	    is_type(obj, "message", "global-delivery-status"))
		f->delivery_status_part = 1;
	else if (is_type(obj, "message", "feedback-report"))
		f->feedback_report_part = 1;
	else if (is_type(obj, "text", "rfc822-headers"))
		f->returned_message = 1;
	else if (is_type(obj, "message", "disposition-notification") ||
		 is_type(obj, "message", "global-disposition-notification"))
		f->report_disposition = 1;
}

/* note_report_multipart - remember multipart/report and its report-type */
static void note_report_multipart(struct walk *w, GMimeObject *obj)
{
	const char *rt;

	if (!is_type(obj, "multipart", "report"))
		return;
	rt = g_mime_object_get_content_type_parameter(obj, "report-type");
	if (rt == NULL)
		return;
	if (g_ascii_strcasecmp(rt, "delivery-status") == 0 ||
	    g_ascii_strcasecmp(rt, "global-delivery-status") == 0)
		w->ctx->facts.report_delivery_status = 1;
	else if (g_ascii_strcasecmp(rt, "disposition-notification") == 0)
		w->ctx->facts.report_disposition = 1;
	else if (g_ascii_strcasecmp(rt, "feedback-report") == 0)
		w->ctx->facts.feedback_report_part = 1;
}

/* body_candidate - 1 when OBJ may be the text body: inline text/plain or text/html, unnamed */
static int body_candidate(GMimeObject *obj)
{
	if (!GMIME_IS_TEXT_PART(obj))
		return 0;
	if (!is_type(obj, "text", "plain") && !is_type(obj, "text", "html"))
		return 0;
	if (is_attachment_disposition(obj) || raw_type_broken(obj))
		return 0;
	return g_mime_part_get_filename(GMIME_PART(obj)) == NULL;
}

static void walk(struct walk *w, GMimeObject *obj, int depth, int inner);

/* walk_leaf - a part that is not a multipart nor a message */
static void walk_leaf(struct walk *w, GMimeObject *obj, int inner)
{
	if (!inner) {
		note_report_part(w, obj);
		w->leaves++;
	}
	if (body_candidate(obj)) {
		if (!inner && is_type(obj, "text", "plain") && w->plain == NULL)
			w->plain = GMIME_TEXT_PART(obj);
		else if (!inner && is_type(obj, "text", "html") && w->html == NULL)
			w->html = GMIME_TEXT_PART(obj);
		return;
	}
	if ((is_type(obj, "application", "ms-tnef") || is_type(obj, "application", "vnd.ms-tnef")) &&
	    mail_tnef_expand(w->ctx, GMIME_PART(obj), inner, &w->full))
		return;
	add_attachment(w, obj);
}

/* walk - visit OBJ and its children; INNER is set inside a forwarded message */
static void walk(struct walk *w, GMimeObject *obj, int depth, int inner)
{
	if (obj == NULL)
		return;
	if (depth > MAIL_MAX_DEPTH) {
		if (!w->deep)
			mail_warn(w->ctx->rec, "MIME nesting deeper than %d: rest skipped", MAIL_MAX_DEPTH);
		w->deep = 1;
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		if (!inner)
			note_report_multipart(w, obj);
		for (int i = 0; i < n && !w->full; i++)
			walk(w, g_mime_multipart_get_part(mp, i), depth + 1, inner);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (!inner)
			w->ctx->facts.returned_message = 1;
		add_attachment(w, obj);
		if (m != NULL)
			walk(w, g_mime_message_get_mime_part(m), depth + 1, 1);
	} else if (GMIME_IS_PART(obj)) {
		walk_leaf(w, obj, inner);
	}
}

/* decoded_bytes - the decoded content of PART (g_byte_array_free(ba, TRUE)) */
static GByteArray *decoded_bytes(GMimePart *part)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *ba;

	if (dw != NULL)
		g_mime_data_wrapper_write_to_stream(dw, mem);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_object_unref(mem);
	return ba;
}

/* charset_usable - 1 when CS names a charset other than UTF-8/ASCII that iconv knows */
static int charset_usable(const char *cs)
{
	iconv_t cd;

	if (cs == NULL || g_ascii_strcasecmp(cs, "utf-8") == 0 || g_ascii_strcasecmp(cs, "us-ascii") == 0)
		return 0;
	cd = g_mime_iconv_open("UTF-8", g_mime_charset_iconv_name(cs));
	if (cd == (iconv_t)-1)
		return 0;
	g_mime_iconv_close(cd);
	return 1;
}

/*
 * text_of - the decoded text of PART as valid UTF-8 with LF line ends
 *
 * The declared charset when every byte converts; else UTF-8 when valid;
 * else GMime's lenient conversion from the declared charset (a few bad
 * bytes dropped); else windows-1252.  Returns a GString (free it).
 */
static GString *text_of(GMimeTextPart *part)
{
	const char *cs = g_mime_text_part_get_charset(part);
	GByteArray *raw = decoded_bytes(GMIME_PART(part));
	int usable = charset_usable(cs);
	char *text = NULL;
	GString *g;

	if (raw->len == 0) {
		g_byte_array_free(raw, TRUE);
		return g_string_new(NULL);
	}
	if (usable)
		text = mail_convert_strict((const char *)raw->data, raw->len, cs);
	if (text == NULL && g_utf8_validate((const char *)raw->data, (gssize)raw->len, NULL))
		text = g_strndup((const char *)raw->data, raw->len);
	if (text == NULL && usable) {
		char *lenient = g_mime_text_part_get_text(part);

		if (lenient != NULL && g_utf8_validate(lenient, -1, NULL))
			text = lenient;
		else
			g_free(lenient);
	}
	if (text == NULL)
		text = mail_to_utf8((const char *)raw->data, raw->len, NULL);
	g_byte_array_free(raw, TRUE);
	g = g_string_new(text);
	g_free(text);
	mail_text_normalise_newlines(g);
	return g;
}

/* cap_body - cut G to MAIL_MAX_BODY_TEXT bytes on a UTF-8 boundary (warns) */
static void cap_body(struct mail_record *rec, GString *g)
{
	size_t cap = MAIL_MAX_BODY_TEXT;

	if (g->len <= cap)
		return;
	while (cap > 0 && ((unsigned char)g->str[cap] & 0xc0) == 0x80)
		cap--;
	g_string_truncate(g, cap);
	mail_warn(rec, "body text cut at %d bytes", MAIL_MAX_BODY_TEXT);
}

/* fill_body - the chosen text part into rec->body */
static void fill_body(struct walk *w)
{
	struct mail_record *rec = w->ctx->rec;
	GString *g;

	if (w->plain != NULL) {
		g = text_of(w->plain);
	} else if (w->html != NULL) {
		GString *html = text_of(w->html);
		char *text;

		if (html->len > MAX_HTML_INPUT) {
			mail_warn(rec, "HTML body cut at %d bytes before conversion", MAX_HTML_INPUT);
			g_string_truncate(html, MAX_HTML_INPUT);
		}
		text = mail_html_to_text(html->str, html->len, MAIL_MAX_BODY_TEXT + 4);
		g_string_free(html, TRUE);
		g = g_string_new(text);
		g_free(text);
		rec->flags |= MAIL_HTML_BODY;
	} else if (w->ctx->tnef_text != NULL) {
		g = w->ctx->tnef_text;
		w->ctx->tnef_text = NULL;
		if (w->ctx->tnef_html)
			rec->flags |= MAIL_HTML_BODY;
	} else {
		return;
	}
	cap_body(rec, g);
	rec->body_len = g->len;
	rec->body = g_string_free(g, FALSE);
}

/* mail_body_walk - walk the outer message: body text, attachments, report facts */
void mail_body_walk(struct mail_ctx *ctx)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	walk(&w, g_mime_message_get_mime_part(ctx->message), 0, 0);
	fill_body(&w);
	if (ctx->tnef_text != NULL)
		g_string_free(ctx->tnef_text, TRUE);
	ctx->tnef_text = NULL;
	if (ctx->rec->body == NULL && w.leaves == 0 && ctx->rec->header_len < ctx->len) {
		mail_warn(ctx->rec, "no readable MIME part: raw body used as text");
		mail_plain_body(ctx);
	}
}
