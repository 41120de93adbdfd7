/*
 * csv.c - one CSV field as RFC 4180 writes it, for crmctl export's files
 * and crmview's table downloads: one piece of code, so that both quote
 * alike
 */
#include <string.h>

#include "common.h"

/* csv_field - see common.h */
void csv_field(const char *s, size_t len, unsigned flags, csv_put_fn put, void *arg)
{
	/* a spreadsheet runs a cell that starts with one of these as a formula */
	int formula = (flags & CSV_FORMULA_GUARD) && len && s[0] && strchr("=+-@\t\r", s[0]);
	size_t i, from;

	if (!formula && !memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\r', len) &&
	    !memchr(s, '\n', len)) {
		put(arg, s, len);
		return;
	}
	put(arg, formula ? "\"'" : "\"", formula ? 2 : 1);
	for (i = from = 0; i < len; i++)
		if (s[i] == '"') {
			put(arg, s + from, i + 1 - from);
			from = i;       /* the quote again: doubled */
		}
	put(arg, s + from, len - from);
	put(arg, "\"", 1);
}
