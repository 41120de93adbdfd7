/*
 * uu.c - uudecoding that forgives lost trailing spaces
 *
 * In uuencode a space encodes zero bits, so a line that ends in zero bytes
 * ends in spaces, and mail software often strips them.  GMime's decoder
 * then emits short lines (a wrong size and hash).  Each line says how many
 * bytes it carries in its first character: mail_uudecode() reads a short
 * line as if the missing characters were spaces, as uudecode(1) does.
 */
#include <string.h>

#include "mail_int.h"

/* uu_value - the six bits character C stands for (' ' and '`' are 0) */
static unsigned uu_value(char c)
{
	return ((unsigned char)c - ' ') & 077;
}

/* uu_line - append the bytes of one encoded line (N characters) to OUT */
static void uu_line(GByteArray *out, const char *line, size_t n)
{
	size_t want, k = 1;

	if (n == 0)
		return;
	want = uu_value(line[0]);
	while (want > 0) {
		unsigned q[4];
		guint8 b[3];
		size_t take = want < 3 ? want : 3;

		for (int j = 0; j < 4; j++, k++)
			q[j] = k < n ? uu_value(line[k]) : 0;
		b[0] = (guint8)(q[0] << 2 | q[1] >> 4);
		b[1] = (guint8)(q[1] << 4 | q[2] >> 2);
		b[2] = (guint8)(q[2] << 6 | q[3]);
		g_byte_array_append(out, b, (guint)take);
		want -= take;
	}
}

/*
 * mail_uudecode - the bytes of the uuencoded data in S[0..LEN): from the
 * line after "begin MODE NAME" (or from the start when there is none) to
 * the "end" line.  Line ends may be LF or CRLF.  Returns a new array
 * (g_byte_array_free(ba, TRUE)); never fails.
 */
GByteArray *mail_uudecode(const char *s, size_t len)
{
	GByteArray *out = g_byte_array_new();
	size_t i = 0;
	int begun = 0;

	for (size_t j = 0; j < len && !begun; ) {
		const char *nl = memchr(s + j, '\n', len - j);
		size_t next = nl ? (size_t)(nl - s) + 1 : len;

		if (len - j >= 6 && strncmp(s + j, "begin ", 6) == 0) {
			begun = 1;
			i = next;
		}
		j = next;
	}
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t next = nl ? (size_t)(nl - s) + 1 : len, n = (nl ? (size_t)(nl - s) : len) - i;

		if (n > 0 && s[i + n - 1] == '\r')
			n--;
		if (n >= 3 && strncmp(s + i, "end", 3) == 0 && (n == 3 || s[i + 3] == ' '))
			break;
		uu_line(out, s + i, n);
		i = next;
	}
	return out;
}
