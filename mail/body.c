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
 * memory (transport line ends of 7bit/8bit/QP parts count as LF; a
 * uuencoded part is decoded by uu.c).  A forwarded message is listed as
 * one message/rfc822 attachment and its own attachments follow it; its
 * headers never become the outer message's, and its text only when the
 * outer message has no text part and no other part at all (then it is
 * shown as forwarded history).  A winmail.dat (application/ms-tnef) part
 * is opened by tnef.c: its files are listed in its place and its body is
 * the text when no part is.  What flags.c needs (report types) is noted on
 * the way.  When GMime found no leaf part at all (a multipart it could not
 * split), the raw bytes after the header block are used as the text.  The
 * text of the chosen part is read by text.c.
 *
 * Private: mail_body_walk.
 */
#include <string.h>

#include "mail_int.h"

/* bytes kept of an attachment file name */
#define MAX_FILENAME 1024
/* forwarded messages shown as the text of a message that has none, and their nesting */
#define MAX_FORWARDED 20
#define MAX_FORWARDED_DEPTH 4

struct walk {
	struct mail_ctx *ctx;
	GMimeTextPart *plain;  /* first inline text/plain outside rfc822 (not owned) */
	GMimeTextPart *html;   /* first inline text/html outside rfc822 (not owned) */
	int full;              /* MAIL_MAX_ATTACHMENTS reached */
	int deep;              /* warned about depth */
	int leaves;            /* leaf parts met outside forwarded messages */
	GPtrArray *forwarded;  /* forwarded messages of the outer one, up to MAX_FORWARDED (not owned) */
	int text_only;         /* only look for the text parts: list and note nothing */
};

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
	char *word, *fixed, *out;
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
		fixed = mail_header_to_utf8(word, NULL);
		out = g_mime_utils_header_decode_text(NULL, fixed);
		g_free(fixed);
		g_free(word);
		return out;
	}
	return NULL;
}

/*
 * reparsed_param - PARAM of OBJ's HEADER read again from its raw value
 * made ready by mail_header_to_utf8, when that value holds encoded words
 * GMime may have misread (g_free()); NULL when it holds none or no PARAM
 */
static char *reparsed_param(struct mail_ctx *ctx, GMimeObject *obj, const char *header,
			    const char *param)
{
	const char *raw = mail_header_raw(obj, header), *v;
	char *fixed, *out = NULL;

	if (raw == NULL || strstr(raw, "=?") == NULL)
		return NULL;
	fixed = mail_header_to_utf8(raw, ctx->charset);
	if (g_ascii_strcasecmp(header, "Content-Disposition") == 0) {
		GMimeContentDisposition *cd = g_mime_content_disposition_parse(ctx->options, fixed);

		v = g_mime_content_disposition_get_parameter(cd, param);
		out = v && *v ? g_strdup(v) : NULL;
		g_object_unref(cd);
	} else {
		GMimeContentType *ct = g_mime_content_type_parse(ctx->options, fixed);

		v = g_mime_content_type_get_parameter(ct, param);
		out = v && *v ? g_strdup(v) : NULL;
		g_object_unref(ct);
	}
	g_free(fixed);
	return out;
}

/* part_filename - decoded, cleaned file name of OBJ (g_free()) or NULL */
static char *part_filename(struct mail_ctx *ctx, GMimeObject *obj)
{
	const char *name;
	char *raw, *out;

	raw = reparsed_param(ctx, obj, "Content-Disposition", "filename");
	if (raw == NULL)
		raw = reparsed_param(ctx, obj, "Content-Type", "name");
	if (raw != NULL) {
		out = mail_unfold(raw, MAX_FILENAME);
		g_free(raw);
		return out;
	}
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
 * hash_uuencoded - when OBJ is a uuencoded part: its size and sha256 as
 * mail_uudecode reads it (lines that lost their trailing spaces kept
 * whole), and 1; else 0.  The encoded bytes are held in memory for the
 * time of the call.
 */
static int hash_uuencoded(GMimeObject *obj, uint64_t *size, char hex[65])
{
	GMimeDataWrapper *dw;
	GMimeStream *src, *mem;
	GByteArray *enc, *dec;
	char *digest;

	if (!GMIME_IS_PART(obj) ||
	    g_mime_part_get_content_encoding(GMIME_PART(obj)) != GMIME_CONTENT_ENCODING_UUENCODE ||
	    (dw = g_mime_part_get_content(GMIME_PART(obj))) == NULL ||
	    (src = g_mime_data_wrapper_get_stream(dw)) == NULL)
		return 0;
	mem = g_mime_stream_mem_new();
	g_mime_stream_reset(src);
	g_mime_stream_write_to_stream(src, mem);
	enc = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	dec = mail_uudecode((const char *)enc->data, enc->len);
	*size = dec->len;
	digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, dec->data, dec->len);
	g_strlcpy(hex, digest, 65);
	g_free(digest);
	g_byte_array_free(dec, TRUE);
	g_object_unref(mem);
	return 1;
}

/* mail_object_decode - see mail_int.h */
void mail_object_decode(GMimeObject *obj, GMimeStream *out, GMimeFilter *extra)
{
	GMimeStream *filtered = g_mime_stream_filter_new(out);

	if (line_ends_are_transport(obj)) {
		GMimeFilter *lf = g_mime_filter_dos2unix_new(FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), lf);
		g_object_unref(lf);
	}
	if (extra)
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), extra);
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
	g_object_unref(filtered);
}

/*
 * hash_object - decoded size and sha256 of OBJ, streamed
 *
 * OBJ is decoded (mail_object_decode) through a checksum filter into a
 * null stream.  Nothing is kept in memory.
 */
static void hash_object(GMimeObject *obj, uint64_t *size, char hex[65])
{
	GMimeStream *null = g_mime_stream_null_new();
	GMimeFilter *ck = g_mime_filter_checksum_new(G_CHECKSUM_SHA256);
	char *digest;

	mail_object_decode(obj, null, ck);
	*size = GMIME_STREAM_NULL(null)->written;
	digest = g_mime_filter_checksum_get_string(GMIME_FILTER_CHECKSUM(ck));
	g_strlcpy(hex, digest ? digest : "", 65);
	g_free(digest);
	g_object_unref(ck);
	g_object_unref(null);
}

/* add_attachment - list OBJ as an attachment (warns once when the list is full) */
static void add_attachment(struct walk *w, GMimeObject *obj)
{
	struct mail_record *rec = w->ctx->rec;
	struct mail_attachment *a;

	if (w->full || w->text_only)
		return;
	if (rec->n_attachments >= MAIL_MAX_ATTACHMENTS) {
		mail_warn(rec, "more than %d attachments, the rest not listed", MAIL_MAX_ATTACHMENTS);
		w->full = 1;
		return;
	}
	rec->attachments = g_renew(struct mail_attachment, rec->attachments, rec->n_attachments + 1);
	a = &rec->attachments[rec->n_attachments++];
	memset(a, 0, sizeof(*a));
	a->filename = part_filename(w->ctx, obj);
	a->content_type = mime_type(obj);
	if (!hash_uuencoded(obj, &a->size, a->sha256))
		hash_object(obj, &a->size, a->sha256);
	mail_capture_object(w->ctx, rec->n_attachments - 1, obj);
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
	if (!inner && !w->text_only)
		note_report_part(w, obj);
	if (!inner)
		w->leaves++;
	if (body_candidate(obj)) {
		if (!inner && is_type(obj, "text", "plain") && w->plain == NULL)
			w->plain = GMIME_TEXT_PART(obj);
		else if (!inner && is_type(obj, "text", "html") && w->html == NULL)
			w->html = GMIME_TEXT_PART(obj);
		return;
	}
	if (!w->text_only &&
	    (is_type(obj, "application", "ms-tnef") || is_type(obj, "application", "vnd.ms-tnef")) &&
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

		if (!inner && !w->text_only)
			note_report_multipart(w, obj);
		for (int i = 0; i < n && !w->full; i++)
			walk(w, g_mime_multipart_get_part(mp, i), depth + 1, inner);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (!inner && !w->text_only)
			w->ctx->facts.returned_message = 1;
		if (!inner && m != NULL && w->forwarded->len < MAX_FORWARDED)
			g_ptr_array_add(w->forwarded, m);
		add_attachment(w, obj);
		if (m != NULL)
			walk(w, g_mime_message_get_mime_part(m), depth + 1, 1);
	} else if (GMIME_IS_PART(obj)) {
		walk_leaf(w, obj, inner);
	}
}

/* headers of a forwarded message shown above its text */
static const char *const forwarded_headers[] = { "From", "Date", "Subject", "To", "Cc", NULL };

/*
 * append_forwarded - the forwarded message M into G: its main headers
 * under a "Forwarded message" line (which quote.c reads as history), then
 * its text, or when it has none the messages it forwards in turn
 */
static void append_forwarded(struct mail_ctx *ctx, GString *g, GMimeMessage *m, int depth)
{
	struct walk inner;
	GString *text;

	while (g->len > 0 && !g_str_has_suffix(g->str, "\n\n"))
		g_string_append_c(g, '\n');
	g_string_append(g, "---------- Forwarded message ----------\n");
	for (size_t i = 0; forwarded_headers[i]; i++) {
		const char *raw = mail_header_raw(GMIME_OBJECT(m), forwarded_headers[i]);
		char *v;

		if (raw == NULL)
			continue;
		v = mail_header_text(ctx, raw);
		g_string_append_printf(g, "%s: %s\n", forwarded_headers[i], v);
		g_free(v);
	}
	g_string_append_c(g, '\n');
	memset(&inner, 0, sizeof(inner));
	inner.ctx = ctx;
	inner.text_only = 1;
	inner.forwarded = g_ptr_array_new();
	walk(&inner, g_mime_message_get_mime_part(m), depth + 1, 0);
	if ((text = mail_part_text(ctx->rec, inner.plain, inner.html)) != NULL) {
		g_string_append_len(g, text->str, (gssize)text->len);
		g_string_free(text, TRUE);
	} else if (depth < MAX_FORWARDED_DEPTH) {
		for (guint i = 0; i < inner.forwarded->len && g->len < MAIL_MAX_BODY_TEXT; i++)
			append_forwarded(ctx, g, inner.forwarded->pdata[i], depth + 1);
	}
	g_ptr_array_free(inner.forwarded, TRUE);
}

/*
 * forwarded_body - the text of a message whose only content is the
 * messages it forwards (a forward as attachment, a digest): each one's
 * headers and text (append_forwarded), capped at MAIL_MAX_BODY_TEXT
 */
static void forwarded_body(struct mail_ctx *ctx, GPtrArray *messages)
{
	GString *g = g_string_new(NULL);

	for (guint i = 0; i < messages->len && g->len < MAIL_MAX_BODY_TEXT; i++)
		append_forwarded(ctx, g, messages->pdata[i], 1);
	if (g->len > MAIL_MAX_BODY_TEXT)
		g_string_truncate(g, MAIL_MAX_BODY_TEXT);
	ctx->rec->body = mail_cap_utf8(g_string_free(g, FALSE), MAIL_MAX_BODY_TEXT);
	ctx->rec->body_len = strlen(ctx->rec->body);
}

/*
 * mail_body_walk - walk the outer message: body text, attachments, report
 * facts.  Without a text part of its own, a message shows the body its
 * TNEF part carried, else, when it only forwards messages, their text;
 * one with no part GMime could read shows its raw body.
 */
void mail_body_walk(struct mail_ctx *ctx)
{
	struct walk w;
	GString *text;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.forwarded = g_ptr_array_new();
	walk(&w, g_mime_message_get_mime_part(ctx->message), 0, 0);
	if ((text = mail_part_text(ctx->rec, w.plain, w.html)) != NULL) {
		ctx->rec->body_len = text->len;
		ctx->rec->body = g_string_free(text, FALSE);
	} else if (ctx->tnef_text != NULL) {
		if (ctx->tnef_html)
			ctx->rec->flags |= MAIL_HTML_BODY;
		mail_text_cap(ctx->rec, ctx->tnef_text);
		ctx->rec->body_len = ctx->tnef_text->len;
		ctx->rec->body = g_string_free(ctx->tnef_text, FALSE);
		ctx->tnef_text = NULL;
	} else if (w.leaves == 0 && w.forwarded->len > 0) {
		forwarded_body(ctx, w.forwarded);
	} else if (w.leaves == 0 && ctx->body_off < ctx->len) {
		mail_warn(ctx->rec, "no readable MIME part: raw body used as text");
		mail_plain_body(ctx);
	}
	if (ctx->tnef_text != NULL)
		g_string_free(ctx->tnef_text, TRUE);
	ctx->tnef_text = NULL;
	g_ptr_array_free(w.forwarded, TRUE);
}
