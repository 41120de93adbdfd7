/*
 * lex.c - split one line of a rules file into tokens, and collect errors
 *
 * Tokens are separated by blanks.  A token starting with '"' is a quoted
 * literal (\" and \\ escape); one starting with '/' is a regex that runs to
 * the next unescaped '/' and may be followed by flag letters; '#' at the
 * start of a token begins a comment to the end of the line.  Every token
 * keeps its column so that errors can point at it.
 *
 * diag_add() appends "FILE:LINE:COL: message" lines to a load's error
 * buffer, at most RULES_MAX_ERRORS of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

/* diag_put - append the line TEXT (a newline is added); 0, or -1 when memory runs out */
int diag_put(struct diag *d, const char *text)
{
	size_t n = strlen(text);

	if (d->len + n + 2 > d->cap) {
		size_t cap = (d->cap ? d->cap * 2 : 1024) + n + 2;
		char *nb = realloc(d->buf, cap);

		if (!nb)
			return -1;
		d->buf = nb;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, text, n);
	d->buf[d->len + n] = '\n';
	d->len += n + 1;
	d->buf[d->len] = '\0';
	return 0;
}

/* diag_add - record one error; silently stops after RULES_MAX_ERRORS */
void diag_add(struct diag *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[1024], *text;
	va_list ap;

	d->n++;
	if (d->n > RULES_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (asprintf(&text, "%s:%u:%u: %s", file, line, col, msg) < 0)
		return;
	diag_put(d, text);
	free(text);
}

/* tok_push - append a token; 0, or -1 when memory runs out or the line has too many */
static int tok_push(struct toks *t, enum tok_kind kind, char *text, char *flags, unsigned col)
{
	struct tok *nv;

	if (!text || t->n >= RULES_MAX_TOKENS) {
		free(text);
		free(flags);
		return -1;
	}
	nv = realloc(t->v, (t->n + 1) * sizeof *nv);
	if (!nv) {
		free(text);
		free(flags);
		return -1;
	}
	t->v = nv;
	t->v[t->n++] = (struct tok){ .kind = kind, .text = text, .flags = flags, .col = col };
	return 0;
}

/* is_blank - space or tab */
static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * lex_quoted - the quoted literal starting at *p ('"'); advances *p past
 * it.  Returns the unescaped text (free()), or NULL when unterminated.
 */
static char *lex_quoted(const char **p)
{
	const char *s = *p + 1;
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s && *s != '"') {
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*o++ = *s++;
	}
	if (*s != '"') {
		free(out);
		return NULL;
	}
	*o = '\0';
	*p = s + 1;
	return out;
}

/*
 * lex_regex - the /regex/flags starting at *p; advances *p.  Returns the
 * body (free()) and *flags, or NULL when the closing '/' is missing.  A
 * backslash keeps the next byte (so \/ is a slash) for pcre2 to read.
 */
static char *lex_regex(const char **p, char **flags)
{
	const char *s = *p + 1, *start = s, *f;

	while (*s && *s != '/') {
		if (*s == '\\' && s[1])
			s++;
		s++;
	}
	if (*s != '/')
		return NULL;
	for (f = s + 1; *f && !is_blank(*f); f++)
		;
	*flags = strndup(s + 1, (size_t)(f - s - 1));
	*p = f;
	return strndup(start, (size_t)(s - start));
}

/* keep_text - the rule text: LINE up to END with blanks trimmed, in t->line */
static int keep_text(struct toks *t, const char *line, const char *end)
{
	while (line < end && is_blank(*line))
		line++;
	while (end > line && is_blank(end[-1]))
		end--;
	t->line = strndup(line, (size_t)(end - line));
	return t->line ? 0 : -1;
}

/*
 * lex_line - tokens of LINE into *out (empty for blank and comment lines).
 * Returns 0, or -1 after adding an error to D (the line is then skipped).
 * Free *out with toks_free() in both cases.
 */
int lex_line(const char *file, unsigned lineno, const char *line, struct toks *out, struct diag *d)
{
	const char *p = line, *end = line + strlen(line);
	char *text, *flags;
	unsigned col;

	memset(out, 0, sizeof *out);
	while (*p) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		col = (unsigned)(p - line) + 1;
		if (*p == '#') {
			end = p;
			break;
		}
		flags = NULL;
		if (*p == '"') {
			text = lex_quoted(&p);
			if (!text) {
				diag_add(d, file, lineno, col, "unterminated \"quoted string\"");
				return -1;
			}
			if (tok_push(out, TOK_QUOTED, text, NULL, col) < 0)
				goto oom;
		} else if (*p == '/') {
			text = lex_regex(&p, &flags);
			if (!text) {
				diag_add(d, file, lineno, col, "unterminated /regex/: no closing '/'");
				return -1;
			}
			if (tok_push(out, TOK_REGEX, text, flags, col) < 0)
				goto oom;
		} else {
			const char *s = p;

			while (*p && !is_blank(*p))
				p++;
			if (tok_push(out, TOK_WORD, strndup(s, (size_t)(p - s)), NULL, col) < 0)
				goto oom;
		}
	}
	if (keep_text(out, line, end) == 0)
		return 0;
oom:
	diag_add(d, file, lineno, 1, "out of memory, or more than %d tokens on the line",
		 RULES_MAX_TOKENS);
	return -1;
}

/* toks_free - free the tokens of one line */
void toks_free(struct toks *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].text);
		free(t->v[i].flags);
	}
	free(t->v);
	free(t->line);
	memset(t, 0, sizeof *t);
}
