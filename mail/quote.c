/*
 * quote.c - quoted reply history in a body, and the snippet of what is not
 *
 * mail_quotes_find() marks byte spans of rec->body that repeat earlier
 * mail rather than say something new:
 *   - runs of lines starting with '>' (blank lines inside a run included);
 *   - an attribution line ("On ... wrote:", "Am ... schrieb ...:",
 *     "Le ... a écrit :", and the like, possibly wrapped over two lines)
 *     together with the quoted run after it;
 *   - Outlook's "-----Original Message-----" (or a "Forwarded message"
 *     line of dashes, and their translations), or a line of underscores
 *     followed by "From:", or a "From:" / "Sent:" header block: from there
 *     to the end of the body.
 * mail_snippet_make() takes the first MAIL_SNIPPET_CHARS characters of the
 * text outside those spans, on one line.  Lines are LF-terminated: body.c
 * normalised them.  No regular expressions.
 */
#include <string.h>

#include "mail_int.h"

/* a line of the body: [start, end) without its LF; next is the following line */
struct line {
	size_t start, end, next;
};

/* verbs that end an attribution line (compared case-insensitively, ASCII) */
static const char *const attribution_ends[] = {
	"wrote:", "wrote :", "writes:", "schrieb:", "schrieb :", "a \xc3\xa9" "crit :",
	"a \xc3\xa9" "crit:", "a ecrit :", "a ecrit:", "escribi\xc3\xb3:", "ha scritto:",
	"escreveu:", "schreef:", "skrev:", "pisze:", "kirjoitti:", "\xc3\xadrta:",
	"napsal:", "\xd0\xbd\xd0\xb0\xd0\xbf\xd0\xb8\xd1\x81\xd0\xb0\xd0\xbb:",
	"\xd0\xbd\xd0\xb0\xd0\xbf\xd0\xb8\xd1\x81\xd0\xb0\xd0\xbb(\xd0\xb0):", NULL
};

/* verbs inside a dated attribution that ends with ':' ("Am ... schrieb Ann <a@b>:") */
static const char *const attribution_verbs[] = {
	" wrote", " schrieb", " schreef", " skrev", " a \xc3\xa9" "crit", " a ecrit", " escribi",
	" ha scritto", " escreveu", " pisze", " napsal", " kirjoitti", " \xc3\xadrta", NULL
};

/* words that start an attribution line with a date */
static const char *const attribution_starts[] = {
	"On ", "Am ", "Le ", "El ", "Il ", "Op ", "Em ", "W dniu ", "Den ", "Dne ", NULL
};

/* "Original Message" separators (inside a line of dashes) */
static const char *const original_message[] = {
	"original message", "forwarded message", "weitergeleitete nachricht",
	"message transf\xc3\xa9r\xc3\xa9", "mensaje reenviado", "messaggio inoltrato",
	"doorgestuurd bericht", "urspr\xc3\xbcngliche nachricht", "original-nachricht",
	"message d'origine", "mensaje original", "messaggio originale",
	"oorspronkelijk bericht", "originalmeddelande", "opprinnelig melding",
	"alkuper\xc3\xa4inen viesti", "mensagem original", "wiadomo\xc5\x9b\xc4\x87 oryginalna",
	NULL
};

/* header names that open a quoted Outlook header block */
static const char *const from_names[] = {
	"From:", "Von:", "De:", "De :", "Van:", "Da:", "Fr\xc3\xa5n:", "Fra:", "Od:",
	"L\xc3\xa4hett\xc3\xa4j\xc3\xa4:", "Felad\xc3\xb3:", "\xd0\x9e\xd1\x82:",
	"\xe5\x8f\x91\xe4\xbb\xb6\xe4\xba\xba:", "\xe5\xaf\x84\xe4\xbb\xb6\xe8\x80\x85:",
	"\xe5\xb7\xae\xe5\x87\xba\xe4\xba\xba:", NULL
};

/* header names for the date line of an Outlook header block */
static const char *const sent_names[] = {
	"Sent:", "Date:", "Gesendet:", "Datum:", "Envoy\xc3\xa9 :", "Envoy\xc3\xa9:",
	"Enviado:", "Enviado el:", "Inviato:", "Verzonden:", "Skickat:", "Sendt:",
	"Wys\xc5\x82" "ano:", "L\xc3\xa4hetetty:", "\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe:",
	NULL
};

/* line_at - the line starting at OFF (OFF < len) */
static struct line line_at(const char *body, size_t len, size_t off)
{
	struct line l;
	const char *nl = memchr(body + off, '\n', len - off);

	l.start = off;
	l.end = nl ? (size_t)(nl - body) : len;
	l.next = nl ? l.end + 1 : len;
	return l;
}

/* trimmed - the line without white space at either end: pointer and length */
static const char *trimmed(const char *body, struct line l, size_t *n)
{
	size_t s = l.start, e = l.end;

	while (s < e && g_ascii_isspace(body[s]))
		s++;
	while (e > s && g_ascii_isspace(body[e - 1]))
		e--;
	*n = e - s;
	return body + s;
}

/* is_blank - 1 when the line holds only white space */
static int is_blank(const char *body, struct line l)
{
	size_t n;

	trimmed(body, l, &n);
	return n == 0;
}

/* is_quoted - 1 when the line starts with '>' (after at most 3 spaces) */
static int is_quoted(const char *body, struct line l)
{
	size_t i = l.start;

	while (i < l.end && i - l.start < 3 && body[i] == ' ')
		i++;
	return i < l.end && body[i] == '>';
}

/* starts_with_any - 1 when S[0..n) starts with one of LIST (ASCII case folded) */
static int starts_with_any(const char *s, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i]; i++) {
		size_t k = strlen(list[i]);

		if (k <= n && g_ascii_strncasecmp(s, list[i], k) == 0)
			return 1;
	}
	return 0;
}

/* ends_with_any - 1 when S[0..n) ends with one of LIST (ASCII case folded) */
static int ends_with_any(const char *s, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i]; i++) {
		size_t k = strlen(list[i]);

		if (k <= n && g_ascii_strncasecmp(s + n - k, list[i], k) == 0)
			return 1;
	}
	return 0;
}

/* contains_ci - 1 when S[0..n) contains NEEDLE (ASCII case folded) */
static int contains_ci(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (g_ascii_strncasecmp(s + i, needle, k) == 0)
			return 1;
	return 0;
}

/* has_digit - 1 when S[0..n) holds an ASCII digit */
static int has_digit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (g_ascii_isdigit(s[i]))
			return 1;
	return 0;
}

/* is_attribution_text - 1 when S[0..n) reads as an attribution line */
static int is_attribution_text(const char *s, size_t n, int dated)
{
	if (ends_with_any(s, n, attribution_ends))
		return 1;
	if (!dated || n == 0 || s[n - 1] != ':')
		return 0;
	for (size_t i = 0; attribution_verbs[i]; i++)
		if (contains_ci(s, n, attribution_verbs[i]))
			return 1;
	return 0;
}

/*
 * attribution - lines taken by an attribution starting at L: 0 (none), 1,
 * or 2 when it is wrapped; *dated is set when it starts "On <date>"-like.
 */
static int attribution(const char *body, size_t len, struct line l, int *dated)
{
	size_t n, n2;
	const char *s = trimmed(body, l, &n), *s2;
	struct line l2;
	char *joined;
	int hit;

	*dated = 0;
	if (n == 0 || n > 300)
		return 0;
	if (starts_with_any(s, n, attribution_starts) && has_digit(s, n))
		*dated = 1;
	if (is_attribution_text(s, n, *dated))
		return 1;
	if (!*dated || l.next >= len)
		return 0;
	l2 = line_at(body, len, l.next);
	s2 = trimmed(body, l2, &n2);
	if (n2 == 0 || n2 > 200) {
		*dated = 0;
		return 0;
	}
	joined = g_strdup_printf("%.*s %.*s", (int)n, s, (int)n2, s2);
	hit = is_attribution_text(joined, strlen(joined), 1);
	g_free(joined);
	if (!hit)
		*dated = 0;
	return hit ? 2 : 0;
}

/* is_original_message - 1 for "-----Original Message-----" and its translations */
static int is_original_message(const char *body, struct line l)
{
	size_t n;
	const char *s = trimmed(body, l, &n);

	if (n < 8 || strncmp(s, "---", 3) != 0)
		return 0;
	for (size_t i = 0; original_message[i]; i++)
		if (contains_ci(s, n, original_message[i]))
			return 1;
	return 0;
}

/* is_underscores - 1 for a line of ten or more '_' and nothing else */
static int is_underscores(const char *body, struct line l)
{
	size_t n;
	const char *s = trimmed(body, l, &n);

	if (n < 10)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '_')
			return 0;
	return 1;
}

/* line_starts - 1 when line L (trimmed) starts with one of LIST */
static int line_starts(const char *body, struct line l, const char *const *list)
{
	size_t n;
	const char *s = trimmed(body, l, &n);

	return starts_with_any(s, n, list);
}

/* next_nonblank - the first non-blank line at or after OFF within 3 lines; 0 if none */
static int next_nonblank(const char *body, size_t len, size_t off, struct line *out)
{
	for (int i = 0; i < 3 && off < len; i++) {
		struct line l = line_at(body, len, off);

		if (!is_blank(body, l)) {
			*out = l;
			return 1;
		}
		off = l.next;
	}
	return 0;
}

/* is_header_block - 1 when L is "From: ..." and a "Sent:"/"Date:" line follows within 3 lines */
static int is_header_block(const char *body, size_t len, struct line l)
{
	size_t off = l.next;

	if (!line_starts(body, l, from_names))
		return 0;
	for (int i = 0; i < 3 && off < len; i++) {
		struct line n = line_at(body, len, off);

		if (line_starts(body, n, sent_names))
			return 1;
		off = n.next;
	}
	return 0;
}

/* quoted_run_end - end offset (after the LF) of the quoted run starting at OFF */
static size_t quoted_run_end(const char *body, size_t len, size_t off)
{
	size_t end = off;

	while (off < len) {
		struct line l = line_at(body, len, off);

		if (is_quoted(body, l))
			end = l.next;
		else if (!is_blank(body, l))
			break;
		off = l.next;
	}
	return end;
}

/* add_span - append [start, end) to the record, merging with the last span */
static void add_span(struct mail_record *rec, size_t start, size_t end)
{
	struct mail_span *last;

	if (end <= start)
		return;
	if (rec->n_quotes > 0) {
		last = &rec->quotes[rec->n_quotes - 1];
		if (start <= last->start + last->len) {
			if (end > last->start + last->len)
				last->len = end - last->start;
			return;
		}
	}
	rec->quotes = g_renew(struct mail_span, rec->quotes, rec->n_quotes + 1);
	rec->quotes[rec->n_quotes].start = start;
	rec->quotes[rec->n_quotes].len = end - start;
	rec->n_quotes++;
}

/* to_the_end - 1 when line L opens quoted history that runs to the end of the body */
static int to_the_end(const char *body, size_t len, struct line l)
{
	struct line n;

	if (is_original_message(body, l))
		return 1;
	if (is_underscores(body, l))
		return next_nonblank(body, len, l.next, &n) && line_starts(body, n, from_names);
	return is_header_block(body, len, l);
}

/* mail_quotes_find - fill rec->quotes from rec->body */
void mail_quotes_find(struct mail_record *rec)
{
	const char *body = rec->body;
	size_t len = rec->body_len, off = 0;

	while (off < len) {
		struct line l = line_at(body, len, off);
		int dated, taken;

		if (to_the_end(body, len, l)) {
			add_span(rec, l.start, len);
			return;
		}
		if (is_quoted(body, l)) {
			off = quoted_run_end(body, len, l.start);
			add_span(rec, l.start, off);
			continue;
		}
		taken = attribution(body, len, l, &dated);
		if (taken > 0) {
			size_t after = taken == 2 ? line_at(body, len, l.next).next : l.next;
			struct line q;

			if (next_nonblank(body, len, after, &q) && is_quoted(body, q)) {
				off = quoted_run_end(body, len, q.start);
				add_span(rec, l.start, off);
				continue;
			}
			if (dated && next_nonblank(body, len, after, &q)) {
				add_span(rec, l.start, len);
				return;
			}
		}
		off = l.next;
	}
}

/* in_span - the span of QUOTES holding OFF, or NULL (spans are sorted) */
static const struct mail_span *in_span(const struct mail_span *quotes, size_t n, size_t off,
				       size_t *k)
{
	while (*k < n && quotes[*k].start + quotes[*k].len <= off)
		(*k)++;
	if (*k < n && quotes[*k].start <= off)
		return &quotes[*k];
	return NULL;
}

/* mail_snippet - see mail.h */
char *mail_snippet(const char *body, size_t len, const struct mail_span *quotes, size_t n_quotes)
{
	GString *g = g_string_new(NULL);
	size_t off = 0, k = 0, chars = 0;
	int space = 0;

	while (body && off < len) {
		const struct mail_span *sp = in_span(quotes, n_quotes, off, &k);
		unsigned char c = (unsigned char)body[off];

		if (sp != NULL) {
			off = sp->start + sp->len;
			space = g->len > 0;
			continue;
		}
		if (c < 0x80 && (g_ascii_isspace(c) || c < 0x20)) {
			space = g->len > 0;
			off++;
			continue;
		}
		if ((c & 0xc0) != 0x80) {  /* a new character starts */
			if (chars + (space ? 1 : 0) >= MAIL_SNIPPET_CHARS)
				break;
			if (space) {
				g_string_append_c(g, ' ');
				chars++;
			}
			space = 0;
			chars++;
		}
		g_string_append_c(g, (char)c);
		off++;
	}
	char *out = strdup(g->str);
	g_string_free(g, TRUE);
	return out;
}

/*
 * mail_snippet_make - the record's snippet (see mail_snippet()).  Returns a
 * new string (free()), or NULL when memory runs out.
 */
char *mail_snippet_make(const struct mail_record *rec)
{
	return mail_snippet(rec->body, rec->body_len, rec->quotes, rec->n_quotes);
}
