/*
 * rtf.c - the RTF body of an Outlook message, made plain text
 *
 * TNEF carries a rich-text body as PR_RTF_COMPRESSED: mail_rtf_decompress()
 * expands it (MS-OXRTFCP, LZFu or stored), rather than libytnef's
 * DecompressRTF(), which reads past its input, prints and leaks on a bad
 * stream, and has the prebuffer's CR LF swapped; mail_rtf_to_text() then
 * reduces the RTF to crude plain text.  Both are bounded in what they read
 * and write, and neither recurses.
 *
 * Private: mail_rtf_decompress, mail_rtf_to_text.
 */
#include <string.h>

#include "mail_int.h"

#define RTF_LZFU 0x75465A4Cu  /* "LZFu": compressed */
#define RTF_MELA 0x414C454Du  /* "MELA": stored */
/* bytes of RTF expanded from PR_RTF_COMPRESSED */
#define MAX_RTF (4 * MAIL_MAX_BODY_TEXT)

/*
 * mail_rtf_decompress - the RTF of a PR_RTF_COMPRESSED value D/LEN (MS-OXRTFCP)
 *
 * Reads no further than LEN nor the stream's own compressed size, writes
 * no more than its declared raw size nor MAX_RTF.  Returns a GString (free
 * it), or NULL when the value is neither LZFu nor MELA.
 */
GString *mail_rtf_decompress(const unsigned char *d, size_t len)
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
	end = mail_le32(d) > len - 4 ? len : 4 + (size_t)mail_le32(d);
	cap = MIN((size_t)mail_le32(d + 4), (size_t)MAX_RTF);
	magic = mail_le32(d + 8);
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
 * mail_rtf_to_text - crude plain text of RTF S/LEN (a GString: free it)
 *
 * Groups of tables, pictures, fields' instructions and "\*" destinations
 * are dropped; \par and \line become line ends, \tab a tab, \'hh a
 * windows-1252 byte, \uN a character (its \ucN fallback skipped); other
 * control words are dropped.  No recursion; output capped at CAP bytes.
 */
GString *mail_rtf_to_text(const char *s, size_t len, size_t cap)
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
