/*
 * tnef.c - Outlook's application/ms-tnef parts (winmail.dat) opened up
 *
 * mail_tnef_expand() decodes a TNEF part with libytnef and lists each file
 * it carries as an attachment of its own (name, type, size and sha256 of
 * the file's bytes) in place of the opaque winmail.dat.  The message body
 * it carries (attBody, else PR_BODY, else PR_BODY_HTML, else the compressed
 * RTF made into crude plain text) goes to ctx->tnef_text, which body.c uses
 * when the MIME message has no text part of its own.  An embedded TNEF
 * (an attached Outlook item) is listed as application/ms-tnef, not opened.
 *
 * libytnef trusts its input: it allocates declared lengths before checking
 * them, crashes in TNEFFree() after some failures, leaks repeated
 * attributes and prints its errors on stdout.  So a stream is first checked
 * against the grammar libytnef reads (tnef_check.c), every
 * length against the bytes present and every count against libytnef's own
 * limits; only a stream that passes reaches TNEFParseMemory(), cut before
 * the attachment that would pass MAIL_MAX_ATTACHMENTS.  A stream that
 * fails is left to body.c as one winmail.dat attachment, with a warning
 * saying why.  The compressed RTF is expanded and made text by rtf.c.
 *
 * Private: mail_tnef_expand.
 */
#include <stdio.h>
#include <string.h>

#include "mail_int.h"

/* libytnef defines BYTE, WORD, DWORD and ULONG as macros: included last */
#include <ytnef.h>

/* bytes of a TNEF part we decode (libytnef holds about two more copies) */
#define MAX_TNEF_BYTES (32 * 1024 * 1024)
/* bytes of HTML made into text */
#define MAX_HTML_INPUT (8 * MAIL_MAX_BODY_TEXT)
#define ATTACH_DATA_OBJ_IID 16  /* PT_OBJECT values start with an interface id */

/* bytes kept of an attachment file name (as body.c) */
#define MAX_FILENAME 1024

/* ---- what the parsed stream holds ---- */

/* prop - value of property PT/ID in P with data, or NULL */
static variableLength *prop(MAPIProps *p, unsigned pt, unsigned id)
{
	variableLength *v = MAPIFindProperty(p, PROP_TAG(pt, id));

	return v != MAPI_UNDEFINED && v != NULL && v->data != NULL && v->size > 0 ? v : NULL;
}

/* prop_long - the PT_LONG property ID of P, or 0 */
static uint32_t prop_long(MAPIProps *p, unsigned id)
{
	variableLength *v = prop(p, PT_LONG, id);
	uint32_t n = 0;

	if (v != NULL && v->size == 4)
		memcpy(&n, v->data, 4);
	return n;
}

/* bytes_len - LEN without trailing NULs of S */
static size_t bytes_len(const unsigned char *s, size_t len)
{
	while (len > 0 && s[len - 1] == '\0')
		len--;
	return len;
}

/* eight_bit_text - 8-bit text S/LEN in CHARSET as UTF-8, up to its first NUL (g_free()) */
static char *eight_bit_text(const unsigned char *s, size_t len, const char *charset)
{
	const unsigned char *nul = memchr(s, '\0', len);

	return mail_to_utf8((const char *)s, nul ? (size_t)(nul - s) : len, charset);
}

/*
 * prop_text - string property ID of P as UTF-8 (g_free()), or NULL
 *
 * PT_UNICODE values were made UTF-8 (NUL-terminated) by libytnef, which
 * knows no surrogate pairs: what it made of them is repaired.  PT_STRING8
 * values are read in CHARSET.
 */
static char *prop_text(MAPIProps *p, unsigned id, const char *charset)
{
	variableLength *v;

	if ((v = prop(p, PT_UNICODE, id)) != NULL)
		return g_utf8_make_valid((const char *)v->data, -1);
	if ((v = prop(p, PT_STRING8, id)) != NULL)
		return eight_bit_text(v->data, (size_t)v->size, charset);
	return NULL;
}

/* codepage_charset - charset name of Windows code page CP for GMime/iconv, or NULL */
static const char *codepage_charset(uint32_t cp, char buf[16])
{
	static const struct { uint32_t cp; const char *name; } names[] = {
		{ 65001, "utf-8" }, { 20127, "us-ascii" }, { 932, "shift_jis" }, { 936, "gbk" },
		{ 949, "euc-kr" }, { 950, "big5" }, { 20866, "koi8-r" }, { 21866, "koi8-u" },
		{ 50220, "iso-2022-jp" }, { 51932, "euc-jp" }, { 54936, "gb18030" },
	};

	if (cp == 0)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (names[i].cp == cp)
			return names[i].name;
	if (cp >= 28591 && cp <= 28606)
		snprintf(buf, 16, "iso-8859-%u", (unsigned)(cp - 28590));
	else if (cp >= 1250 && cp <= 1258)
		snprintf(buf, 16, "windows-%u", (unsigned)cp);
	else
		snprintf(buf, 16, "cp%u", (unsigned)cp);
	return buf;
}

/* stream_charset - the charset of the stream's 8-bit strings, or NULL (see mail_to_utf8) */
static const char *stream_charset(TNEFStruct *t, char buf[16])
{
	uint32_t cp = prop_long(&t->MapiProperties, PR_INTERNET_CPID);

	if (cp == 0)
		cp = prop_long(&t->MapiProperties, PR_MESSAGE_CODEPAGE);
	if (cp == 0 && t->CodePage.data != NULL && t->CodePage.size >= 4)
		cp = mail_le32(t->CodePage.data);
	return codepage_charset(cp, buf);
}

/* mime_tag - the attachment's PR_ATTACH_MIME_TAG when it reads "type/subtype" (g_free()), or NULL */
static char *mime_tag(MAPIProps *p)
{
	char *s = prop_text(p, PR_ATTACH_MIME_TAG, NULL), *lower;
	const char *slash;

	if (s == NULL)
		return NULL;
	g_strstrip(s);
	slash = strchr(s, '/');
	if (slash == NULL || slash == s || slash[1] == '\0' || strlen(s) > 255 ||
	    strpbrk(s, " \t;\"") != NULL) {
		g_free(s);
		return NULL;
	}
	lower = g_ascii_strdown(s, -1);
	g_free(s);
	return lower;
}

/* guess_type - a content type from NAME's extension, application/octet-stream when unknown */
static char *guess_type(const char *name)
{
	static const char *const types[][2] = {
		{ "pdf", "application/pdf" }, { "txt", "text/plain" }, { "htm", "text/html" },
		{ "html", "text/html" }, { "csv", "text/csv" }, { "rtf", "application/rtf" },
		{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "png", "image/png" },
		{ "gif", "image/gif" }, { "zip", "application/zip" }, { "ics", "text/calendar" },
		{ "vcf", "text/vcard" }, { "xml", "application/xml" }, { "eml", "message/rfc822" },
		{ "doc", "application/msword" }, { "xls", "application/vnd.ms-excel" },
		{ "ppt", "application/vnd.ms-powerpoint" },
		{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
		{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
		{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
	};
	const char *dot = name ? strrchr(name, '.') : NULL;

	for (size_t i = 0; dot != NULL && i < G_N_ELEMENTS(types); i++)
		if (g_ascii_strcasecmp(dot + 1, types[i][0]) == 0)
			return g_strdup(types[i][1]);
	return g_strdup("application/octet-stream");
}

/* file_name - the attachment's name, long name first, cleaned (g_free()), or NULL */
static char *file_name(Attachment *a, const char *charset)
{
	char *name = prop_text(&a->MAPI, PR_ATTACH_LONG_FILENAME, charset), *out;

	if ((name == NULL || *name == '\0') && a->Title.data != NULL && a->Title.size > 0) {
		g_free(name);
		name = eight_bit_text(a->Title.data, (size_t)a->Title.size, charset);
	}
	if (name == NULL || *name == '\0') {
		g_free(name);
		name = prop_text(&a->MAPI, PR_ATTACH_FILENAME, charset);
	}
	if (name == NULL || *name == '\0') {
		g_free(name);
		name = prop_text(&a->MAPI, PR_DISPLAY_NAME, charset);
	}
	out = name && *name ? mail_unfold(name, MAX_FILENAME) : NULL;
	g_free(name);
	if (out != NULL && *out == '\0') {
		g_free(out);
		out = NULL;
	}
	return out;
}

/* file_bytes - the attachment's data: attAttachData, else PR_ATTACH_DATA_OBJ (may be empty) */
static const unsigned char *file_bytes(Attachment *a, size_t *len)
{
	variableLength *v;

	*len = 0;
	if (a->FileData.data != NULL && a->FileData.size > 0) {
		*len = (size_t)a->FileData.size;
		return a->FileData.data;
	}
	if ((v = prop(&a->MAPI, PT_BINARY, PR_ATTACH_DATA_OBJ)) != NULL) {
		*len = (size_t)v->size;
		return v->data;
	}
	if ((v = prop(&a->MAPI, PT_OBJECT, PR_ATTACH_DATA_OBJ)) != NULL && v->size > ATTACH_DATA_OBJ_IID) {
		*len = (size_t)v->size - ATTACH_DATA_OBJ_IID;
		return v->data + ATTACH_DATA_OBJ_IID;
	}
	return (const unsigned char *)"";
}

/* list_files - each file of T as an attachment of ctx->rec (warns once, via *FULL, at the cap) */
static void list_files(struct mail_ctx *ctx, TNEFStruct *t, const char *charset, int *full)
{
	struct mail_record *rec = ctx->rec;

	for (Attachment *a = t->starting_attach.next; a != NULL && !*full; a = a->next) {
		struct mail_attachment *m;
		const unsigned char *data;
		size_t len;
		char *digest;

		if (rec->n_attachments >= MAIL_MAX_ATTACHMENTS) {
			mail_warn(rec, "more than %d attachments, the rest not listed", MAIL_MAX_ATTACHMENTS);
			*full = 1;
			return;
		}
		rec->attachments = g_renew(struct mail_attachment, rec->attachments, rec->n_attachments + 1);
		m = &rec->attachments[rec->n_attachments++];
		memset(m, 0, sizeof(*m));
		data = file_bytes(a, &len);
		m->filename = file_name(a, charset);
		if ((m->content_type = mime_tag(&a->MAPI)) == NULL)
			m->content_type = len >= 4 && mail_le32(data) == MAIL_TNEF_SIGNATURE ?
				g_strdup("application/ms-tnef") : guess_type(m->filename);
		m->size = len;
		digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
		g_strlcpy(m->sha256, digest ? digest : "", sizeof(m->sha256));
		g_free(digest);
		mail_capture_data(ctx, rec->n_attachments - 1, data, len);
	}
}

/* ---- the body it carries ---- */

/* html_text - readable text of HTML bytes S/LEN in CHARSET (a GString: free it) */
static GString *html_text(const unsigned char *s, size_t len, const char *charset)
{
	char *html = mail_to_utf8((const char *)s, MIN(bytes_len(s, len), (size_t)MAX_HTML_INPUT), charset);
	char *text = mail_html_to_text(html, strlen(html), MAIL_MAX_BODY_TEXT + 4);
	GString *g = g_string_new(text);

	g_free(text);
	g_free(html);
	return g;
}

/* body_text - the text T carries, the plain one first (a GString or NULL); *HTML set when made from HTML */
static GString *body_text(TNEFStruct *t, const char *charset, int *html)
{
	MAPIProps *p = &t->MapiProperties;
	variableLength *v;
	GString *g = NULL, *rtf;
	char *s = NULL;

	*html = 0;
	if (t->body.data != NULL && t->body.size > 0)
		s = eight_bit_text(t->body.data, (size_t)t->body.size, charset);
	if (s == NULL || *s == '\0') {
		g_free(s);
		s = prop_text(p, PR_BODY, charset);
	}
	if (s != NULL && *s != '\0') {
		g = g_string_new(s);
		g_free(s);
		return g;
	}
	g_free(s);
	if ((v = prop(p, PT_BINARY, PR_BODY_HTML)) != NULL || (v = prop(p, PT_STRING8, PR_BODY_HTML)) != NULL) {
		g = html_text(v->data, (size_t)v->size, charset);
		if (g->len > 0) {
			*html = 1;
			return g;
		}
		g_string_free(g, TRUE);
	}
	if ((v = prop(p, PT_BINARY, PR_RTF_COMPRESSED)) != NULL &&
	    (rtf = mail_rtf_decompress(v->data, (size_t)v->size)) != NULL) {
		g = mail_rtf_to_text(rtf->str, rtf->len, MAIL_MAX_BODY_TEXT + 4);
		g_string_free(rtf, TRUE);
		if (g->len > 0 && g_utf8_validate(g->str, (gssize)g->len, NULL))
			return g;
		g_string_free(g, TRUE);
	}
	return NULL;
}

/* trim - strip white space and line ends at both ends of G */
static void trim(GString *g)
{
	size_t start = 0;

	while (g->len > 0 && g_ascii_isspace(g->str[g->len - 1]))
		g_string_truncate(g, g->len - 1);
	while (start < g->len && g_ascii_isspace(g->str[start]))
		start++;
	g_string_erase(g, 0, (gssize)start);
}

/*
 * mail_tnef_expand - list the files of the TNEF part PART in ctx->rec
 *
 * Returns 1 when the stream was decoded: its files (none, maybe) are
 * listed in its place, up to MAIL_MAX_ATTACHMENTS in all (*FULL is set,
 * with body.c's warning, when the list fills up), and unless INNER (inside
 * a forwarded message) or a TNEF body was found before, the body it
 * carries is put in ctx->tnef_text (body.c frees it) and ctx->tnef_html
 * set when that text was made from HTML.  Returns 0, after a warning
 * saying why, when the part is not TNEF that can be read safely: the
 * caller lists it as it is.
 */
int mail_tnef_expand(struct mail_ctx *ctx, GMimePart *part, int inner, int *full)
{
	struct mail_record *rec = ctx->rec;
	GByteArray *raw = mail_decoded_bytes(part);
	const char *why = NULL, *charset;
	char cpbuf[16];
	TNEFStruct t;
	size_t use = 0;
	int room = MAIL_MAX_ATTACHMENTS - (int)rec->n_attachments, html, parsed = 0, rc = 0;
	GString *text;

	if (raw->len > MAX_TNEF_BYTES) {
		why = "larger than 32 MB";
		goto out;
	}
	if (mail_tnef_check(raw->data, raw->len, MAX(room, 0) + 1, &use, &why) < 0)
		goto out;
	memset(&t, 0, sizeof(t));  /* TNEFInitialize() leaves fields TNEFFillMapi reads */
	TNEFInitialize(&t);
	parsed = 1;
	if (TNEFParseMemory(raw->data, (long)use, &t) != 0) {
		why = "libytnef could not read it";
		goto out;
	}
	charset = stream_charset(&t, cpbuf);
	list_files(ctx, &t, charset, full);
	if (!inner && ctx->tnef_text == NULL && (text = body_text(&t, charset, &html)) != NULL) {
		mail_text_normalise_newlines(text);
		trim(text);
		if (text->len > 0) {
			ctx->tnef_text = text;
			ctx->tnef_html = html;
		} else {
			g_string_free(text, TRUE);
		}
	}
	rc = 1;
out:
	if (parsed)
		TNEFFree(&t);
	if (!rc)
		mail_warn(rec, "TNEF part (winmail.dat) not decoded: %s", why);
	g_byte_array_free(raw, TRUE);
	return rc;
}
