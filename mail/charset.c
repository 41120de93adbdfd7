/*
 * charset.c - text in the charset a message declares, made UTF-8
 *
 * Real mail names charsets iconv does not know ("eucgb2312_cn", "x-sjis",
 * "cp-1252"), declares one charset and writes another, carries a stray
 * invalid byte in otherwise good text, and writes encoded words GMime
 * 3.2.13 misreads.  This file turns such bytes into UTF-8 as a reader
 * would have seen them:
 *
 *   mail_charset_iconv    a declared name to one iconv opens, or NULL
 *   mail_convert_strict   every byte must convert
 *   mail_convert_lenient  bad bytes become U+FFFD, the rest is kept
 *   mail_to_utf8          raw bytes of unknown origin (declared charset,
 *                         UTF-8, windows-1252, latin-1, in that order)
 *   mail_header_to_utf8   a raw header value made ready for GMime's
 *                         RFC 2047 decoders (see there)
 */
#include <errno.h>
#include <string.h>

#include "mail_int.h"

/* what real mail writes for "no charset we can name": read by heuristics */
static const char *const unknown_names[] = {
	"unknown", "unknown-8bit", "x-unknown", "default", "x-user-defined", NULL
};

/* names seen in real mail that neither GMime nor iconv map, after charset_key() */
static const struct {
	const char *alias, *iconv;
} aliases[] = {
	{ "eucgb2312-cn", "GB18030" }, { "gb2312-80", "GB18030" },
	{ "gb-2312-80", "GB18030" }, { "gb2312-1980", "GB18030" },
	{ "csgb2312", "GB18030" }, { "gbk", "GB18030" }, { "chinese", "GB18030" },
	{ "euc-cn", "GB18030" }, { "sjis", "CP932" }, { "windows-31j", "CP932" },
	{ "ms-kanji", "CP932" }, { "csshiftjis", "CP932" }, { "euc-jp", "EUC-JP" },
	{ "ks-c-5601", "CP949" }, { "ks-c-5601-1987", "CP949" }, { "ksc5601", "CP949" },
	{ "euc-kr", "CP949" }, { "korean", "CP949" }, { "unicode-1-1-utf-8", "UTF-8" },
	{ "unicode20utf8", "UTF-8" }, { "utf-8", "UTF-8" }, { "big5", "BIG5" },
	{ "mac-roman", "MACINTOSH" }, { "mac-cyrillic", "MAC-CYRILLIC" },
	{ "latin-1", "ISO-8859-1" }, { "koi8-r", "KOI8-R" }, { "koi8-u", "KOI8-U" },
};

/* opens - 1 when iconv converts NAME to UTF-8 */
static int opens(const char *name)
{
	iconv_t cd = g_mime_iconv_open("UTF-8", name);

	if (cd == (iconv_t)-1)
		return 0;
	g_mime_iconv_close(cd);
	return 1;
}

/*
 * charset_key - NAME folded for the alias table: lower case, '_' and ' '
 * as '-', any "x-" prefixes and a "*language" suffix dropped (g_free())
 */
static char *charset_key(const char *name)
{
	char *key = g_ascii_strdown(name, -1), *p;

	key[strcspn(key, "*")] = '\0';
	for (p = key; *p; p++)
		if (*p == '_' || *p == ' ')
			*p = '-';
	p = key;
	while (strncmp(p, "x-", 2) == 0)
		p += 2;
	memmove(key, p, strlen(p) + 1);
	return key;
}

/* windows_codepage - "CP1252" for "cp-1252", "windows1252", "win-1251", "ms-1252"; else NULL */
static const char *windows_codepage(const char *key)
{
	static const char *const prefixes[] = { "windows", "win", "cp", "ms", NULL };

	for (size_t i = 0; prefixes[i]; i++) {
		size_t n = strlen(prefixes[i]);
		const char *d = key + n;

		if (strncmp(key, prefixes[i], n) != 0)
			continue;
		if (*d == '-')
			d++;
		if (*d != '\0' && strspn(d, "0123456789") == strlen(d) && strlen(d) <= 5) {
			char buf[16];

			g_snprintf(buf, sizeof buf, "CP%s", d);
			return g_intern_string(buf);
		}
	}
	return NULL;
}

/*
 * mail_charset_iconv - the iconv name for a DECLARED charset name, or NULL
 * when it names no charset iconv can read (or names "unknown" on purpose).
 * GMime's own mapping first, then the aliases of real mail.  The result is
 * a static or interned string; answers are kept (thread-safe, bounded).
 */
static const char *charset_resolve(const char *declared);

/* resolved names by declared name (lower case); "" for none.  Bounded: real mail names few */
#define MAX_CACHED_CHARSETS 256
static GHashTable *resolved;
static GMutex resolved_lock;

const char *mail_charset_iconv(const char *declared)
{
	const char *hit = NULL;
	char *key;

	if (declared == NULL || *declared == '\0')
		return NULL;
	key = g_ascii_strdown(declared, -1);
	g_mutex_lock(&resolved_lock);
	if (resolved == NULL)
		resolved = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	hit = g_hash_table_lookup(resolved, key);
	g_mutex_unlock(&resolved_lock);
	if (hit == NULL) {
		hit = charset_resolve(declared);
		hit = hit ? hit : "";
		g_mutex_lock(&resolved_lock);
		if (g_hash_table_size(resolved) < MAX_CACHED_CHARSETS)
			g_hash_table_insert(resolved, g_strdup(key), (gpointer)hit);
		g_mutex_unlock(&resolved_lock);
	}
	g_free(key);
	return *hit ? hit : NULL;
}

/* charset_resolve - mail_charset_iconv without the cache */
static const char *charset_resolve(const char *declared)
{
	const char *name, *mapped = NULL;
	char *key;

	for (size_t i = 0; unknown_names[i]; i++)
		if (g_ascii_strcasecmp(declared, unknown_names[i]) == 0)
			return NULL;
	name = g_mime_charset_iconv_name(declared);
	if (opens(name))
		return name;
	key = charset_key(declared);
	for (size_t i = 0; i < G_N_ELEMENTS(aliases) && mapped == NULL; i++)
		if (strcmp(key, aliases[i].alias) == 0)
			mapped = aliases[i].iconv;
	if (mapped == NULL)
		mapped = windows_codepage(key);
	if (mapped == NULL && opens(g_mime_charset_iconv_name(key)))
		mapped = g_intern_string(g_mime_charset_iconv_name(key));
	g_free(key);
	return mapped != NULL && opens(mapped) ? mapped : NULL;
}

/* has_8bit - 1 when S[0..LEN) holds a byte above 0x7f */
static int has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* mail_convert_strict - S in CHARSET to UTF-8 (g_free()), or NULL unless every byte converts */
char *mail_convert_strict(const char *s, size_t len, const char *charset)
{
	const char *name = mail_charset_iconv(charset);
	gsize nread = 0, nwritten = 0;
	char *out;

	if (name == NULL)
		return NULL;
	out = g_convert(s, (gssize)len, "UTF-8", name, &nread, &nwritten, NULL);
	if (out != NULL && (nread != len || !g_utf8_validate(out, (gssize)nwritten, NULL))) {
		g_free(out);
		out = NULL;
	}
	return out;
}

/*
 * mail_convert_lenient - S in CHARSET to UTF-8, each byte that does not
 * convert written as U+FFFD and counted in *BAD.  Returns g_free(), or
 * NULL when iconv cannot read CHARSET.
 */
char *mail_convert_lenient(const char *s, size_t len, const char *charset, size_t *bad)
{
	const char *name = mail_charset_iconv(charset);
	char buf[4096], *in = (char *)s, *out;
	gsize inleft = len, outleft;
	GIConv cd;
	GString *g;

	*bad = 0;
	if (name == NULL || (cd = g_iconv_open("UTF-8", name)) == (GIConv)-1)
		return NULL;
	g = g_string_sized_new(len + len / 2 + 16);
	while (inleft > 0) {
		gsize r;

		out = buf;
		outleft = sizeof buf;
		r = g_iconv(cd, &in, &inleft, &out, &outleft);
		g_string_append_len(g, buf, out - buf);
		if (r == (gsize)-1 && errno != E2BIG) {
			g_string_append(g, "\xef\xbf\xbd");
			in++;
			inleft--;
			(*bad)++;
			g_iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	out = buf;
	outleft = sizeof buf;
	g_iconv(cd, NULL, NULL, &out, &outleft);
	g_string_append_len(g, buf, out - buf);
	g_iconv_close(cd);
	if (!g_utf8_validate(g->str, (gssize)g->len, NULL)) {
		char *valid = g_utf8_make_valid(g->str, (gssize)g->len);

		g_string_free(g, TRUE);
		return valid;
	}
	return g_string_free(g, FALSE);
}

/* single-byte charset families: every byte "decodes", so that proves nothing */
static const char *const single_byte_prefixes[] = {
	"iso-8859", "iso8859", "iso_8859", "latin", "l1", "windows-125", "cp125",
	"koi8", "us-ascii", "ascii", "ibm", "cp437", "cp850", "cp866", "mac",
	"tis-620", "viscii", "x-mac", NULL
};

/* single_byte - 1 when CHARSET maps every byte to a character */
static int single_byte(const char *charset)
{
	for (size_t i = 0; single_byte_prefixes[i]; i++)
		if (g_ascii_strncasecmp(charset, single_byte_prefixes[i],
					strlen(single_byte_prefixes[i])) == 0)
			return 1;
	return 0;
}

/*
 * mail_to_utf8 - raw header or text bytes to UTF-8
 *
 * Pure ASCII is copied.  Bytes with the high bit are read in CHARSET (the
 * message's declared charset) when that converts them all, else as UTF-8
 * when valid, else as windows-1252 (then latin-1, which always converts).
 * One exception: bytes that are valid UTF-8 stay UTF-8 when CHARSET is a
 * single-byte charset, since those "convert" anything (real mail often
 * declares iso-8859-1 and writes raw UTF-8 headers).  Returns a new string
 * (g_free()).
 */
char *mail_to_utf8(const char *s, size_t len, const char *charset)
{
	int utf8 = 0;
	char *out;

	if (!has_8bit(s, len))
		return g_strndup(s, len);
	utf8 = g_utf8_validate(s, (gssize)len, NULL);
	if (charset != NULL && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    !(utf8 && single_byte(charset)) &&
	    (out = mail_convert_strict(s, len, charset)) != NULL)
		return out;
	if (utf8)
		return g_strndup(s, len);
	if ((out = mail_convert_strict(s, len, "windows-1252")) != NULL)
		return out;
	if ((out = mail_convert_strict(s, len, "iso-8859-1")) != NULL)
		return out;
	return g_utf8_make_valid(s, (gssize)len);
}

/* ---- encoded words ---- */

/* one RFC 2047 encoded word "=?charset?E?text?=" */
struct eword {
	const char *charset;  /* into the value; CHARSET_LEN bytes, any "*lang" included */
	size_t charset_len;
	char enc;             /* 'B' or 'Q' */
	const char *text;     /* TEXT_LEN bytes */
	size_t text_len;
	size_t len;           /* bytes of the whole word */
};

/* eword_at - 1 and W filled when an encoded word starts at S, else 0 */
static int eword_at(const char *s, struct eword *w)
{
	const char *p = s + 2, *end;

	if (s[0] != '=' || s[1] != '?')
		return 0;
	while (*p && *p != '?' && !g_ascii_isspace(*p))
		p++;
	if (p == s + 2 || p[0] != '?' || p[1] == '\0' || strchr("BbQq", p[1]) == NULL || p[2] != '?')
		return 0;
	end = strstr(p + 3, "?=");
	if (end == NULL || memchr(p + 3, '\n', (size_t)(end - p - 3)) != NULL)
		return 0;
	w->charset = s + 2;
	w->charset_len = (size_t)(p - s - 2);
	w->enc = g_ascii_toupper(p[1]);
	w->text = p + 3;
	w->text_len = (size_t)(end - p - 3);
	w->len = (size_t)(end + 2 - s);
	return 1;
}

/* same_b_charset - 1 when A and B are both base64 words of the same charset */
static int same_b_charset(const struct eword *a, const struct eword *b)
{
	return a->enc == 'B' && b->enc == 'B' && a->charset_len == b->charset_len &&
	       g_ascii_strncasecmp(a->charset, b->charset, a->charset_len) == 0;
}

/* append_charset - W's charset, renamed to its iconv name when GMime would not know it */
static void append_charset(GString *g, const struct eword *w)
{
	char *declared = g_strndup(w->charset, w->charset_len);
	const char *mapped;

	declared[strcspn(declared, "*")] = '\0';
	mapped = mail_charset_iconv(declared);
	if (mapped != NULL && strcmp(mapped, g_mime_charset_iconv_name(declared)) != 0)
		g_string_append(g, mapped);
	else
		g_string_append_len(g, w->charset, (gssize)w->charset_len);
	g_free(declared);
}

/* append_word - W rewritten: charset renamed, raw 8-bit bytes of a Q word written as =XX */
static void append_word(GString *g, const struct eword *w)
{
	g_string_append(g, "=?");
	append_charset(g, w);
	g_string_append_printf(g, "?%c?", w->enc);
	for (size_t i = 0; i < w->text_len; i++) {
		unsigned char c = (unsigned char)w->text[i];

		if (w->enc == 'Q' && c >= 0x80)
			g_string_append_printf(g, "=%02X", c);
		else
			g_string_append_c(g, (char)c);
	}
	g_string_append(g, "?=");
}

/* base64_append - the bytes of base64 TEXT (decoded on its own) appended to BYTES */
static void base64_append(GByteArray *bytes, const char *text, size_t n)
{
	guchar *out = g_malloc(n / 4 * 3 + 3);
	gint state = 0;
	guint save = 0;
	gsize got = g_base64_decode_step(text, n, out, &state, &save);

	g_byte_array_append(bytes, out, (guint)got);
	g_free(out);
}

/*
 * append_run - the encoded word at P and the base64 words of its charset
 * that follow it with only white space between; returns the end of what
 * was consumed.  GMime 3.2.13 decodes such a run as one base64 stream, so
 * a padded word ("SGVsbG8=") ends it and every word after is lost: when a
 * word but the last is padded, the run is written as one word holding the
 * bytes of each word decoded on its own.
 */
static const char *append_run(GString *g, const char *p)
{
	struct eword first, w, next;
	const char *end, *q;
	int padded = 0;
	GByteArray *bytes;
	char *b64;

	eword_at(p, &first);
	w = first;
	end = p + first.len;
	for (q = end; first.enc == 'B';) {
		q += strspn(q, " \t\r\n");
		if (!eword_at(q, &next) || !same_b_charset(&first, &next))
			break;
		padded |= w.text_len > 0 && w.text[w.text_len - 1] == '=';
		w = next;
		end = q = q + next.len;
	}
	if (!padded) {
		append_word(g, &first);
		return p + first.len;
	}
	bytes = g_byte_array_new();
	for (q = p; q < end; q += w.len) {
		q += strspn(q, " \t\r\n");
		eword_at(q, &w);
		base64_append(bytes, w.text, w.text_len);
	}
	b64 = g_base64_encode(bytes->data, bytes->len);
	g_string_append(g, "=?");
	append_charset(g, &first);
	g_string_append_printf(g, "?B?%s?=", b64);
	g_free(b64);
	g_byte_array_free(bytes, TRUE);
	return end;
}

/* append_raw - raw bytes outside encoded words: UTF-8 when valid, else read in CHARSET */
static void append_raw(GString *g, const char *s, size_t n, const char *charset)
{
	char *conv;

	if (g_utf8_validate(s, (gssize)n, NULL)) {
		g_string_append_len(g, s, (gssize)n);
		return;
	}
	conv = mail_to_utf8(s, n, charset);
	g_string_append(g, conv);
	g_free(conv);
}

/*
 * mail_header_to_utf8 - a raw header value made UTF-8 for GMime's decoders
 *
 * Raw 8-bit bytes outside encoded words stay as they are when they are
 * valid UTF-8 (what RFC 6532 headers hold, whatever the body's charset),
 * else they are read with the message's CHARSET (mail_to_utf8).  Encoded
 * words are kept for GMime to decode, rewritten where it would misread
 * them: raw 8-bit bytes inside a (broken) Q word are escaped as =XX so they
 * are read in the word's own charset, a charset only our aliases know is
 * renamed, and a run of base64 words with inner padding is joined
 * (append_run).  Returns g_free().
 */
char *mail_header_to_utf8(const char *raw, const char *charset)
{
	const char *p = raw, *seg = raw;
	struct eword w;
	GString *g;

	if (!has_8bit(raw, strlen(raw)) && strstr(raw, "=?") == NULL)
		return g_strdup(raw);
	g = g_string_sized_new(strlen(raw) + 8);
	while (*p) {
		if (!eword_at(p, &w)) {
			p++;
			continue;
		}
		append_raw(g, seg, (size_t)(p - seg), charset);
		p = seg = append_run(g, p);
	}
	append_raw(g, seg, (size_t)(p - seg), charset);
	return g_string_free(g, FALSE);
}
