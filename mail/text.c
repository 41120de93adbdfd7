/*
 * text.c - the readable text of a text part
 *
 * A part's bytes are decoded (base64, quoted-printable...) by GMime, then
 * read in the charset the part declares, with its aliases resolved
 * (charset.c); a part whose declaration is wrong is read as UTF-8, then
 * windows-1252.  HTML is made readable text by html.c.  Line ends become
 * LF, the text is capped at MAIL_MAX_BODY_TEXT bytes on a character
 * boundary.
 *
 * Private: mail_part_text, mail_decoded_bytes, mail_text_cap,
 * mail_text_normalise_newlines.
 */
#include <string.h>

#include "mail_int.h"

/* bytes of HTML we hand to libxml2 */
#define MAX_HTML_INPUT (8 * MAIL_MAX_BODY_TEXT)

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

/* mail_decoded_bytes - the decoded content of PART (g_byte_array_free(ba, TRUE)) */
GByteArray *mail_decoded_bytes(GMimePart *part)
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

/* high_bytes - how many bytes of S[0..LEN) are above 0x7f */
static size_t high_bytes(const guint8 *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] >= 0x80;
	return n;
}

/*
 * lenient_text - RAW in the declared charset NAME with its few bad bytes
 * as U+FFFD (warned), or NULL when more than one in 20 of its 8-bit bytes
 * is bad: then the declaration is wrong rather than the text damaged
 */
static char *lenient_text(struct mail_record *rec, const GByteArray *raw, const char *name)
{
	size_t bad = 0;
	char *text = mail_convert_lenient((const char *)raw->data, raw->len, name, &bad);

	if (text != NULL && bad * 20 > high_bytes(raw->data, raw->len)) {
		g_free(text);
		return NULL;
	}
	if (text != NULL && bad > 0)
		mail_warn(rec, "%zu byte%s not valid %s in a text part, shown as U+FFFD", bad,
			  bad == 1 ? "" : "s", name);
	return text;
}

/*
 * text_of - the decoded text of PART as valid UTF-8 with LF line ends
 *
 * The declared charset (aliases resolved) when every byte converts; else
 * UTF-8 when valid; else the declared charset with its few bad bytes
 * replaced (lenient_text); else windows-1252.  A declared us-ascii proves
 * nothing about 8-bit bytes.  Returns a GString (free it).
 */
static GString *text_of(struct mail_record *rec, GMimeTextPart *part)
{
	const char *name = mail_charset_iconv(g_mime_text_part_get_charset(part));
	GByteArray *raw = mail_decoded_bytes(GMIME_PART(part));
	char *text = NULL;
	GString *g;

	if (name != NULL && g_ascii_strcasecmp(name, g_mime_charset_iconv_name("us-ascii")) == 0)
		name = NULL;
	if (raw->len == 0) {
		g_byte_array_free(raw, TRUE);
		return g_string_new(NULL);
	}
	if (name != NULL)
		text = mail_convert_strict((const char *)raw->data, raw->len, name);
	if (text == NULL && g_utf8_validate((const char *)raw->data, (gssize)raw->len, NULL))
		text = g_strndup((const char *)raw->data, raw->len);
	if (text == NULL && name != NULL)
		text = lenient_text(rec, raw, name);
	if (text == NULL)
		text = mail_to_utf8((const char *)raw->data, raw->len, NULL);
	g_byte_array_free(raw, TRUE);
	g = g_string_new(text);
	g_free(text);
	mail_text_normalise_newlines(g);
	return g;
}

/* mail_text_cap - cut G to MAIL_MAX_BODY_TEXT bytes on a UTF-8 boundary (warns in REC) */
void mail_text_cap(struct mail_record *rec, GString *g)
{
	size_t cap = MAIL_MAX_BODY_TEXT;

	if (g->len <= cap)
		return;
	while (cap > 0 && ((unsigned char)g->str[cap] & 0xc0) == 0x80)
		cap--;
	g_string_truncate(g, cap);
	mail_warn(rec, "body text cut at %d bytes", MAIL_MAX_BODY_TEXT);
}

/*
 * mail_part_text - the readable text of PLAIN, else of HTML (made text by
 * html.c; MAIL_HTML_BODY set in REC), capped at MAIL_MAX_BODY_TEXT (with a
 * warning).  Returns a GString (g_string_free()), or NULL when both are NULL.
 */
GString *mail_part_text(struct mail_record *rec, GMimeTextPart *plain, GMimeTextPart *html)
{
	GString *g;

	if (plain != NULL) {
		g = text_of(rec, plain);
	} else if (html != NULL) {
		GString *h = text_of(rec, html);
		char *text;

		if (h->len > MAX_HTML_INPUT) {
			mail_warn(rec, "HTML body cut at %d bytes before conversion", MAX_HTML_INPUT);
			g_string_truncate(h, MAX_HTML_INPUT);
		}
		text = mail_html_to_text(h->str, h->len, MAIL_MAX_BODY_TEXT + 4);
		g_string_free(h, TRUE);
		g = g_string_new(text);
		g_free(text);
		rec->flags |= MAIL_HTML_BODY;
	} else {
		return NULL;
	}
	mail_text_cap(rec, g);
	return g;
}
