/*
 * buf.c - the response buffer and the escaping every value from mail goes
 * through on its way into HTML or a URL
 *
 * A buffer grows by doubling and stops at VIEW_MAX_BODY (overflow set:
 * the request then answers 500, never a cut page).  html_esc() is the only
 * way text reaches a page: the five HTML specials become entities, and
 * what could hide or reorder text (bytes that are not UTF-8, control
 * characters, bidirectional overrides and isolates) becomes U+FFFD.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

#define REPLACEMENT "\xef\xbf\xbd"

/* grow - room for N more bytes and a NUL; 0 or -1 (overflow set) */
static int grow(struct vbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->overflow)
		return -1;
	if (n > VIEW_MAX_BODY || b->len + n + 1 > VIEW_MAX_BODY) {
		b->overflow = 1;
		return -1;
	}
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->overflow = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

/* vbuf_add - append N bytes of S */
void vbuf_add(struct vbuf *b, const char *s, size_t n)
{
	if (grow(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* vbuf_puts - append the string S */
void vbuf_puts(struct vbuf *b, const char *s)
{
	vbuf_add(b, s, strlen(s));
}

/* vbuf_printf - append formatted text (never used with mail text: escape that) */
void vbuf_printf(struct vbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* vbuf_free - release the buffer */
void vbuf_free(struct vbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* vbuf_adopt - take P (N bytes and a NUL, malloc()ed) as B's contents */
void vbuf_adopt(struct vbuf *b, char *p, size_t n)
{
	vbuf_free(b);
	b->p = p;
	b->len = n;
	b->cap = n + 1;
}

/* vbuf_take - hand the text over; see view_int.h */
char *vbuf_take(struct vbuf *b, size_t *len)
{
	char *p = b->p;

	*len = b->len;
	if (!p)
		p = calloc(1, 1);
	memset(b, 0, sizeof *b);
	return p;
}

/* utf8_char - length of the UTF-8 character at S (N bytes left) and its code point; 0 when bad */
static size_t utf8_char(const unsigned char *s, size_t n, unsigned *cp)
{
	size_t len, i;
	unsigned c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return len;
}

/* utf8_valid - 1 when N bytes at S are UTF-8, else 0 */
int utf8_valid(const char *s, size_t n)
{
	unsigned cp;
	size_t len;

	for (size_t i = 0; i < n; i += len)
		if (!(len = utf8_char((const unsigned char *)s + i, n - i, &cp)))
			return 0;
	return 1;
}

/* hidden - code points shown as U+FFFD: controls, bidi overrides and isolates */
static int hidden(unsigned c)
{
	return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e ||
	       c == 0x200f || c == 0x061c;
}

/* html_esc_n - append N bytes of S escaped for HTML; see view_int.h */
void html_esc_n(struct vbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0, len;
	const char *rep;
	unsigned cp;

	if (!s)
		return;
	while (i < n) {
		rep = NULL;
		len = utf8_char(u + i, n - i, &cp);
		if (len == 0) {
			rep = REPLACEMENT;
			len = 1;
		} else if (hidden(cp)) {
			rep = REPLACEMENT;
		} else if (cp == '&') {
			rep = "&amp;";
		} else if (cp == '<') {
			rep = "&lt;";
		} else if (cp == '>') {
			rep = "&gt;";
		} else if (cp == '"') {
			rep = "&quot;";
		} else if (cp == '\'') {
			rep = "&#39;";
		}
		if (rep) {
			vbuf_add(b, s + start, i - start);
			vbuf_puts(b, rep);
			start = i + len;
		}
		i += len;
	}
	vbuf_add(b, s + start, n - start);
}

/* html_esc - append the string S escaped for HTML */
void html_esc(struct vbuf *b, const char *s)
{
	if (s)
		html_esc_n(b, s, strlen(s));
}

/* url_esc - append S percent-encoded (unreserved characters kept) */
void url_esc(struct vbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = { '%', 0, 0 };

	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			vbuf_add(b, (const char *)p, 1);
		} else {
			e[1] = hex[*p >> 4];
			e[2] = hex[*p & 15];
			vbuf_add(b, e, 3);
		}
	}
}
