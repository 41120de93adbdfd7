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
 * here against the grammar libytnef reads (check_stream, check_mapi), every
 * length against the bytes present and every count against libytnef's own
 * limits; only a stream that passes reaches TNEFParseMemory(), cut before
 * the attachment that would pass MAIL_MAX_ATTACHMENTS.  A stream that
 * fails is left to body.c as one winmail.dat attachment, with a warning
 * saying why.  The compressed RTF is expanded here (MS-OXRTFCP) rather than
 * by libytnef's DecompressRTF(), which reads past its input, prints and
 * leaks on a bad stream, and has the prebuffer's CR LF swapped.
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
/* bytes of RTF expanded from PR_RTF_COMPRESSED, and of HTML made into text */
#define MAX_RTF (4 * MAIL_MAX_BODY_TEXT)
#define MAX_HTML_INPUT (8 * MAIL_MAX_BODY_TEXT)
/* bytes kept of an attachment file name (as body.c) */
#define MAX_FILENAME 1024

/* libytnef's own limits (TNEFFillMapi, to_utf8): beyond them it fails */
#define YT_MAX_PROPS 1000
#define YT_MAX_VALUES 1000
#define YT_MAX_NAME 100
#define YT_MAX_UNICODE 100000

#define TNEF_SIGNATURE 0x223E9F78u
#define RTF_LZFU 0x75465A4Cu  /* "LZFu": compressed */
#define RTF_MELA 0x414C454Du  /* "MELA": stored */
#define ATTACH_DATA_OBJ_IID 16  /* PT_OBJECT values start with an interface id */

/* attributes that allocate per occurrence: a repeat leaks in libytnef */
enum {
	ONCE_FROM = 1, ONCE_BODY = 2, ONCE_CODEPAGE = 4, ONCE_ORIGCLASS = 8, ONCE_MAPI = 16,
	ONCE_TITLE = 1, ONCE_DATA = 2, ONCE_ICON = 4, ONCE_ATTMAPI = 8
};

struct cursor {
	const unsigned char *p;
	size_t left;
};

/* le32 - the little-endian 32-bit number at P */
static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* skip - step over N bytes of C; -1 when fewer are left */
static int skip(struct cursor *c, size_t n)
{
	if (n > c->left)
		return -1;
	c->p += n;
	c->left -= n;
	return 0;
}

/* get32 - read a 32-bit number from C; -1 when fewer than 4 bytes are left */
static int get32(struct cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = le32(c->p);
	return skip(c, 4);
}

/* fail - set *WHY and return -1 */
static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

/* is_subject - 1 for the property ids libytnef copies into its subject */
static int is_subject(uint32_t id)
{
	return id == PR_SUBJECT || id == PR_SUBJECT_IPM || id == PR_ORIGINAL_SUBJECT ||
	       id == PR_NORMALIZED_SUBJECT || id == PR_CONVERSATION_TOPIC;
}

/*
 * check_value - one value of a MAPI property of TYPE at C, as TNEFFillMapi
 * reads it; MV is set for a multi-valued property (no value count before
 * each counted value).  An empty subject is refused: libytnef allocates the
 * whole block for it and, the subject staying empty, again for the next.
 */
static int check_value(struct cursor *c, uint32_t type, uint32_t id, int mv, const char **why)
{
	uint32_t size;

	switch (type) {
	case PT_BINARY:
	case PT_OBJECT:
	case PT_STRING8:
	case PT_UNICODE:
		if ((!mv && skip(c, 4) < 0) || get32(c, &size) < 0)
			return fail(why, "MAPI property cut short");
		if (size > c->left || size + (-size & 3u) > c->left)
			return fail(why, "MAPI property longer than its block");
		if (type == PT_UNICODE && size > YT_MAX_UNICODE)
			return fail(why, "MAPI string over 100000 bytes (libytnef's limit)");
		if (size == 0 && is_subject(id))
			return fail(why, "empty MAPI subject");
		return skip(c, size + (-size & 3u));
	case PT_I2:
	case PT_LONG:
	case PT_R4:
	case PT_CURRENCY:
	case PT_APPTIME:
	case PT_ERROR:
	case PT_BOOLEAN:
		return skip(c, 4) < 0 ? fail(why, "MAPI property cut short") : 0;
	case PT_DOUBLE:
	case PT_I8:
	case PT_SYSTIME:
		return skip(c, 8) < 0 ? fail(why, "MAPI property cut short") : 0;
	case PT_CLSID:
		return skip(c, 16) < 0 ? fail(why, "MAPI property cut short") : 0;
	default:
		return fail(why, "MAPI property of an unknown type");
	}
}

/* check_mapi - 0 when the MAPI property block D/LEN reads through to its end; else -1 and *WHY */
static int check_mapi(const unsigned char *d, size_t len, const char **why)
{
	struct cursor c = { d, len };
	uint32_t count, tag, n, size, values;

	if (get32(&c, &count) < 0 || count > YT_MAX_PROPS)
		return fail(why, "bad MAPI property count");
	for (uint32_t i = 0; i < count; i++) {
		uint32_t type, id;
		int mv;

		if (get32(&c, &tag) < 0)
			return fail(why, "MAPI property block cut short");
		type = PROP_TYPE(tag);
		id = PROP_ID(tag);
		if (id >= 0x8000) {  /* named: a GUID, then names or a number */
			if (skip(&c, 16) < 0 || get32(&c, &n) < 0 || n > c.left / 4)
				return fail(why, "MAPI named property cut short");
			for (uint32_t j = 0; j < n; j++)
				if (get32(&c, &size) < 0 || size > YT_MAX_NAME ||
				    skip(&c, size + (-size & 3u)) < 0)
					return fail(why, "bad MAPI property name");
			if (n == 0) {
				if (get32(&c, &id) < 0)
					return fail(why, "MAPI named property cut short");
				id &= 0xFFFF;
			}
		}
		mv = (type & MV_FLAG) != 0;
		type &= ~(uint32_t)MV_FLAG;
		values = 1;
		if (mv && (get32(&c, &values) < 0 || values == 0 || values > YT_MAX_VALUES))
			return fail(why, "bad MAPI value count");
		for (uint32_t v = 0; v < values; v++)
			if (check_value(&c, type, id, mv, why) < 0)
				return -1;
	}
	return c.left == 0 ? 0 : fail(why, "MAPI property block longer than its properties");
}

/* check_sent_for - 0 when attSentFor's name/address pairs fill D/LEN exactly */
static int check_sent_for(const unsigned char *d, size_t len, const char **why)
{
	struct cursor c = { d, len };

	while (c.left > 0) {
		for (int k = 0; k < 2; k++) {
			size_t n;

			if (c.left < 2)
				return fail(why, "attSentFor cut short");
			n = (size_t)c.p[0] | (size_t)c.p[1] << 8;
			if (skip(&c, 2) < 0 || skip(&c, n) < 0)
				return fail(why, "attSentFor cut short");
		}
	}
	return 0;
}

/* check_attribute - what libytnef's handler for attribute ATT needs of D/LEN; ONCE_* bits in *MSG, *ATT_SEEN */
static int check_attribute(uint32_t att, const unsigned char *d, size_t len, int files,
			   unsigned *msg, unsigned *att_seen, const char **why)
{
	unsigned bit = 0, *seen = msg;

	switch (att) {
	case attFrom: bit = ONCE_FROM; break;
	case attBody: bit = ONCE_BODY; break;
	case attOemCodepage: bit = ONCE_CODEPAGE; break;
	case attOriginalMessageClass: bit = ONCE_ORIGCLASS; break;
	case attMAPIProps: bit = ONCE_MAPI; break;
	case attAttachTitle: bit = ONCE_TITLE; seen = att_seen; break;
	case attAttachData: bit = ONCE_DATA; seen = att_seen; break;
	case attAttachMetaFile: bit = ONCE_ICON; seen = att_seen; break;
	case attAttachment: bit = ONCE_ATTMAPI; seen = att_seen; break;
	case attTnefVersion:
		return len == 4 ? 0 : fail(why, "bad attTnefVersion");
	case attDateSent: case attDateRecd: case attDateModified: case attDateStart:
	case attDateEnd: case attAttachCreateDate: case attAttachModifyDate:
		return len >= sizeof(dtr) ? 0 : fail(why, "date attribute cut short");
	case attRecipTable:
		return len >= 4 ? 0 : fail(why, "attRecipTable cut short");
	case attSentFor:
		return check_sent_for(d, len, why);
	default:
		return 0;
	}
	if (seen == att_seen && files == 0)
		return fail(why, "attachment attribute before any attachment");
	if (*seen & bit)
		return fail(why, "attribute repeated");
	*seen |= bit;
	if (att == attMAPIProps || att == attAttachment)
		return check_mapi(d, len, why);
	return 0;
}

/*
 * check_stream - 0 when the TNEF stream D/LEN is one libytnef reads safely
 *
 * Every attribute must lie inside the stream, have data and the checksum
 * libytnef checks.  *USE is the length to hand over: all of it, or up to
 * the attribute that starts file number MAX_FILES + 1.  On failure -1 is
 * returned and *WHY says what is wrong (a static string).
 */
static int check_stream(const unsigned char *d, size_t len, int max_files, size_t *use,
			const char **why)
{
	size_t off = 6;
	unsigned msg = 0, att_seen = 0;
	int files = 0;

	if (len < 6 || le32(d) != TNEF_SIGNATURE)
		return fail(why, "no TNEF signature");
	while (off < len) {
		const unsigned char *data;
		uint32_t att, size;
		unsigned sum = 0;

		if (len - off < 9)
			return fail(why, "truncated (attribute header cut short)");
		data = d + off + 9;
		att = le32(d + off + 1);
		size = le32(d + off + 5);
		if (size == 0)
			return fail(why, "attribute with no data");
		if (size > len - off - 9 || len - off - 9 - size < 2)
			return fail(why, "truncated (an attribute runs past the end)");
		for (uint32_t i = 0; i < size; i++)
			sum += data[i];
		if ((sum & 0xFFFF) != ((unsigned)data[size] | (unsigned)data[size + 1] << 8))
			return fail(why, "attribute checksum mismatch");
		if (att == attAttachRenddata) {
			if (files == max_files)
				break;
			files++;
			att_seen = 0;
		}
		if (check_attribute(att, data, size, files, &msg, &att_seen, why) < 0)
			return -1;
		off += 9 + (size_t)size + 2;
	}
	*use = off;
	return 0;
}

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
		cp = le32(t->CodePage.data);
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

/* list_files - each file of T as an attachment of REC (warns once, via *FULL, at the cap) */
static void list_files(struct mail_record *rec, TNEFStruct *t, const char *charset, int *full)
{
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
			m->content_type = len >= 4 && le32(data) == TNEF_SIGNATURE ?
				g_strdup("application/ms-tnef") : guess_type(m->filename);
		m->size = len;
		digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
		g_strlcpy(m->sha256, digest ? digest : "", sizeof(m->sha256));
		g_free(digest);
	}
}

/* ---- the body it carries ---- */

/*
 * rtf_decompress - the RTF of a PR_RTF_COMPRESSED value D/LEN (MS-OXRTFCP)
 *
 * Reads no further than LEN nor the stream's own compressed size, writes
 * no more than its declared raw size nor MAX_RTF.  Returns a GString (free
 * it), or NULL when the value is neither LZFu nor MELA.
 */
static GString *rtf_decompress(const unsigned char *d, size_t len)
{
	static const char prebuf[] =
		"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss "
		"\\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier"
		"{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
	unsigned char dict[4096];
	size_t in = 16, end, cap, wpos = sizeof(prebuf) - 1;
	uint32_t magic;
	GString *out;

	if (len < 16)
		return NULL;
	end = le32(d) > len - 4 ? len : 4 + (size_t)le32(d);
	cap = MIN((size_t)le32(d + 4), (size_t)MAX_RTF);
	magic = le32(d + 8);
	if (magic == RTF_MELA)
		return g_string_new_len((const char *)d + 16, (gssize)MIN(cap, end - MIN(end, 16)));
	if (magic != RTF_LZFU)
		return NULL;
	memset(dict, 0, sizeof(dict));
	memcpy(dict, prebuf, wpos);
	out = g_string_sized_new(MIN(cap, (size_t)65536));
	while (in < end && out->len < cap) {
		unsigned flags = d[in++];

		for (int bit = 0; bit < 8 && in < end && out->len < cap; bit++) {
			if (flags & (1u << bit)) {
				unsigned ref, from, n;

				if (end - in < 2)
					return out;
				ref = (unsigned)d[in] << 8 | d[in + 1];
				in += 2;
				from = ref >> 4;
				n = (ref & 15) + 2;
				if (from == wpos)
					return out;  /* the end marker */
				for (unsigned k = 0; k < n && out->len < cap; k++) {
					unsigned char ch = dict[(from + k) & 4095];

					g_string_append_c(out, (char)ch);
					dict[wpos] = ch;
					wpos = (wpos + 1) & 4095;
				}
			} else {
				g_string_append_c(out, (char)d[in]);
				dict[wpos] = d[in++];
				wpos = (wpos + 1) & 4095;
			}
		}
	}
	return out;
}

/* append_cp1252 - byte C of windows-1252 text onto G as UTF-8 */
static void append_cp1252(GString *g, unsigned char c)
{
	static const uint16_t high[32] = {
		0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
		0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
		0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
		0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
	};

	if (c < 0x80)
		g_string_append_c(g, (char)c);
	else
		g_string_append_unichar(g, c < 0xA0 ? high[c - 0x80] : c);
}

/* rtf_skipped - 1 for a destination whose group holds no text */
static int rtf_skipped(const char *word)
{
	static const char *const skip_words[] = {
		"fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "fldinst",
		"header", "headerl", "headerr", "headerf", "footer", "footerl", "footerr", "footerf",
		"themedata", "colorschememapping", "datastore", "latentstyles", "listtable",
		"listoverridetable", "rsidtbl", "xmlnstbl", "generator", "filetbl", "revtbl", NULL
	};

	for (int i = 0; skip_words[i]; i++)
		if (strcmp(word, skip_words[i]) == 0)
			return 1;
	return 0;
}

/*
 * rtf_to_text - crude plain text of RTF S/LEN (a GString: free it)
 *
 * Groups of tables, pictures, fields' instructions and "\*" destinations
 * are dropped; \par and \line become line ends, \tab a tab, \'hh a
 * windows-1252 byte, \uN a character (its \ucN fallback skipped); other
 * control words are dropped.  No recursion; output capped at CAP bytes.
 */
static GString *rtf_to_text(const char *s, size_t len, size_t cap)
{
	GString *g = g_string_new(NULL);
	long depth = 0, skip_at = 0, uc = 1, pending = 0;
	unsigned hi = 0;
	int group_start = 0;
	size_t i = 0;

	while (i < len && g->len < cap) {
		char c = s[i];

		if (c == '{' || c == '}') {
			if (c == '{')
				depth++;
			else if (depth > 0 && depth-- <= skip_at)
				skip_at = 0;
			group_start = c == '{';
			i++;
			continue;
		}
		if (c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c != '\\') {
			group_start = 0;
			i++;
			if (skip_at)
				continue;
			if (pending > 0)
				pending--;
			else
				append_cp1252(g, (unsigned char)c);
			continue;
		}
		if (i + 1 >= len)
			break;
		c = s[i + 1];
		if (g_ascii_isalpha(c)) {
			char word[33];
			size_t n = 0;
			long param = 0;
			int has_param = 0, neg = 0;

			i++;
			while (i < len && g_ascii_isalpha(s[i])) {
				if (n < sizeof(word) - 1)
					word[n++] = s[i];
				i++;
			}
			word[n] = '\0';
			if (i < len && s[i] == '-') {
				neg = 1;
				i++;
			}
			for (int k = 0; i < len && g_ascii_isdigit(s[i]); k++, i++) {
				if (k < 10)
					param = param * 10 + (s[i] - '0');
				has_param = 1;
			}
			if (neg)
				param = -param;
			if (i < len && s[i] == ' ')
				i++;
			if (group_start && !skip_at && rtf_skipped(word))
				skip_at = depth;
			group_start = 0;
			if (skip_at)
				continue;
			if (strcmp(word, "par") == 0 || strcmp(word, "line") == 0)
				g_string_append_c(g, '\n');
			else if (strcmp(word, "tab") == 0)
				g_string_append_c(g, '\t');
			else if (strcmp(word, "uc") == 0 && has_param)
				uc = CLAMP(param, 0, 10);
			else if (strcmp(word, "u") == 0 && has_param) {
				unsigned u = (unsigned)(param < 0 ? param + 65536 : param) & 0xFFFF;

				pending = uc;
				if (u >= 0xD800 && u < 0xDC00) {
					hi = u;
					continue;
				}
				if (u >= 0xDC00 && u < 0xE000)
					u = hi ? 0x10000 + ((hi - 0xD800) << 10) + (u - 0xDC00) : 0xFFFD;
				hi = 0;
				g_string_append_unichar(g, u);
			}
			continue;
		}
		i += 2;
		if (c == '*') {
			if (group_start && !skip_at)
				skip_at = depth;
			continue;
		}
		group_start = 0;
		if (c == '\'') {
			unsigned v = 0;
			int k = 0;

			for (; k < 2 && i < len && g_ascii_isxdigit(s[i]); k++, i++)
				v = v * 16 + (unsigned)g_ascii_xdigit_value(s[i]);
			if (skip_at || k == 0)
				continue;
			if (pending > 0)
				pending--;
			else
				append_cp1252(g, (unsigned char)v);
			continue;
		}
		if (skip_at)
			continue;
		if (c == '\\' || c == '{' || c == '}')
			g_string_append_c(g, c);
		else if (c == '~')
			g_string_append_c(g, ' ');
		else if (c == '_')
			g_string_append_c(g, '-');
		else if (c == '\r' || c == '\n')
			g_string_append_c(g, '\n');
	}
	return g;
}

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
	    (rtf = rtf_decompress(v->data, (size_t)v->size)) != NULL) {
		g = rtf_to_text(rtf->str, rtf->len, MAIL_MAX_BODY_TEXT + 4);
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
	if (check_stream(raw->data, raw->len, MAX(room, 0) + 1, &use, &why) < 0)
		goto out;
	memset(&t, 0, sizeof(t));  /* TNEFInitialize() leaves fields TNEFFillMapi reads */
	TNEFInitialize(&t);
	parsed = 1;
	if (TNEFParseMemory(raw->data, (long)use, &t) != 0) {
		why = "libytnef could not read it";
		goto out;
	}
	charset = stream_charset(&t, cpbuf);
	list_files(rec, &t, charset, full);
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
