/*
 * prepare.c - the bytes GMime is given to parse
 *
 * The same message arrives with LF line ends (mbox, Maildir), CRLF (the
 * MTA) or CR alone (old Mac clients), and GMime 3.2 does not read the three
 * alike everywhere (a quoted-printable "=0D" before a CRLF, the end of a
 * uuencoded line).  mail_prepare() hands it one form: every CRLF made LF,
 * and in a message without any LF every CR made LF.  A lone CR inside LF
 * text is content and stays.
 *
 * It also closes a header block that a mailer forgot to end: when a part
 * (or the message) declares Content-Transfer-Encoding: base64 and a line
 * of base64 follows its headers with no blank line between, GMime reads
 * the data as broken header lines and the part as empty.  A blank line is
 * put before the first such line, as a reader would see it.  Only header
 * blocks are looked at: the top one, and one after each boundary line of a
 * boundary the message declares.
 */
#include <string.h>

#include "mail_int.h"

/* boundaries remembered, and bytes of each */
#define MAX_BOUNDARIES 64
#define MAX_BOUNDARY_LEN 200

struct boundaries {
	const char *v[MAX_BOUNDARIES];
	size_t len[MAX_BOUNDARIES];
	size_t n;
};

/* lf_copy - RAW with CRLF as LF (and CR as LF when it holds no LF), as a new array */
static GByteArray *lf_copy(const char *raw, size_t len)
{
	GByteArray *ba = g_byte_array_sized_new((guint)len);
	int cr_only = memchr(raw, '\n', len) == NULL;
	size_t seg = 0;

	if (memchr(raw, '\r', len) == NULL) {
		g_byte_array_append(ba, (const guint8 *)raw, (guint)len);
		return ba;
	}
	for (size_t i = 0; i < len; i++) {
		if (raw[i] != '\r')
			continue;
		if (cr_only) {
			g_byte_array_append(ba, (const guint8 *)raw + seg, (guint)(i - seg));
			g_byte_array_append(ba, (const guint8 *)"\n", 1);
			seg = i + 1;
		} else if (i + 1 < len && raw[i + 1] == '\n') {
			g_byte_array_append(ba, (const guint8 *)raw + seg, (guint)(i - seg));
			seg = i + 1;
		}
	}
	g_byte_array_append(ba, (const guint8 *)raw + seg, (guint)(len - seg));
	return ba;
}

/* boundary_value - length of the boundary parameter value at P (quotes skipped in *START) */
static size_t boundary_value(const char *p, const char *end, const char **start)
{
	size_t n;

	if (p < end && *p == '"') {
		const char *q;

		p++;
		q = memchr(p, '"', (size_t)(end - p));

		n = q ? (size_t)(q - p) : 0;
	} else {
		n = 0;
		while (p + n < end && !strchr(" \t\n;\"", p[n]))
			n++;
	}
	*start = p;
	return n;
}

/* note_boundaries - the boundary="..." parameters of header LINE (N bytes) into B (capped) */
static void note_boundaries(const char *line, size_t n, struct boundaries *b)
{
	const char *end = line + n;

	for (const char *p = line; b->n < MAX_BOUNDARIES && p + 9 <= end; p++) {
		const char *v;
		size_t len;

		if ((*p != 'b' && *p != 'B') || g_ascii_strncasecmp(p, "boundary=", 9) != 0)
			continue;
		len = boundary_value(p + 9, end, &v);
		if (len > 0 && len <= MAX_BOUNDARY_LEN) {
			b->v[b->n] = v;
			b->len[b->n++] = len;
		}
	}
}

/* is_boundary_line - 1 when LINE (N bytes) is "--" and one of B's boundaries */
static int is_boundary_line(const char *line, size_t n, const struct boundaries *b)
{
	if (n < 3 || line[0] != '-' || line[1] != '-')
		return 0;
	for (size_t i = 0; i < b->n; i++)
		if (n - 2 >= b->len[i] && memcmp(line + 2, b->v[i], b->len[i]) == 0)
			return 1;
	return 0;
}

/* is_base64_line - 1 when LINE (N bytes) holds only base64 characters */
static int is_base64_line(const char *line, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

	if (n < 4)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\0' || strchr(alphabet, line[i]) == NULL)
			return 0;
	return 1;
}

/* is_base64_cte - 1 when header LINE (N bytes) is Content-Transfer-Encoding: base64 */
static int is_base64_cte(const char *line, size_t n)
{
	static const char name[] = "content-transfer-encoding:";
	size_t k = sizeof name - 1;

	if (n < k || g_ascii_strncasecmp(line, name, k) != 0)
		return 0;
	while (k < n && (line[k] == ' ' || line[k] == '\t'))
		k++;
	return n - k >= 6 && g_ascii_strncasecmp(line + k, "base64", 6) == 0;
}

/*
 * close_headers - a copy of BA with a blank line put where base64 data
 * follows headers (*CLOSED says how many), or BA itself when none is
 */
static GByteArray *close_headers(GByteArray *ba, unsigned *closed)
{
	struct boundaries b = { .n = 0 };
	const char *s = (const char *)ba->data;
	size_t len = ba->len, i = 0, seg = 0;
	int in_headers = 1, base64 = 0;
	GByteArray *out = NULL;

	*closed = 0;
	while (i < len) {
		const char *nl, *next;
		size_t n_line;

		if (!in_headers) {
			/* in a body only a boundary line matters: jump to the next "--" line */
			next = memmem(s + i - (i > 0), len - i + (i > 0), "\n--", 3);
			if (next == NULL)
				break;
			i = (size_t)(next - s) + 1;
		}
		nl = memchr(s + i, '\n', len - i);
		n_line = nl ? (size_t)(nl - s) - i : len - i;
		if (!in_headers) {
			in_headers = is_boundary_line(s + i, n_line, &b);
			base64 = 0;
		} else if (n_line == 0) {
			in_headers = 0;
		} else if (is_base64_cte(s + i, n_line)) {
			base64 = 1;
		} else if (base64 && is_base64_line(s + i, n_line)) {
			if (out == NULL)
				out = g_byte_array_sized_new((guint)len + 64);
			g_byte_array_append(out, (const guint8 *)s + seg, (guint)(i - seg));
			g_byte_array_append(out, (const guint8 *)"\n", 1);
			seg = i;
			(*closed)++;
			in_headers = 0;
		} else {
			note_boundaries(s + i, n_line, &b);
		}
		i += n_line + 1;
	}
	if (out == NULL)
		return ba;
	g_byte_array_append(out, (const guint8 *)s + seg, (guint)(len - seg));
	g_byte_array_free(ba, TRUE);
	return out;
}

/*
 * mail_prepare - the bytes of RAW as GMime should parse them (see above),
 * as a new array (g_byte_array_free(ba, TRUE)); *CLOSED says how many
 * header blocks were closed before base64 data.
 */
GByteArray *mail_prepare(const char *raw, size_t len, unsigned *closed)
{
	return close_headers(lf_copy(raw, len), closed);
}
