/*
 * cmd_deals.c - crmctl deals import FILE.csv | crmctl deals [list] [--json]
 *
 * The CSV has a header line naming its columns: key, name, account,
 * contacts (addresses separated by ';' or spaces), status (open or closed;
 * without the column every deal is open), each at most once, in any order;
 * a byte order mark before it is skipped.  Every line has as many fields as
 * the header.  Fields may be "quoted" with "" for a quote.  A bad line (an
 * unknown column, a short or long row, an empty key, a key given twice, a
 * contact that is not an address, a status that is not open or closed) is
 * reported as FILE:LINE: message and nothing is imported.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

#define DEALS_MAX_FILE  (64u * 1024 * 1024)
#define DEALS_MAX_COLS  16

enum { COL_KEY, COL_NAME, COL_ACCOUNT, COL_CONTACTS, COL_STATUS, COL_N };
static const char *const col_names[COL_N] = { "key", "name", "account", "contacts", "status" };

/* csv_fields - split one CSV line in place into at most max fields; returns the count */
static size_t csv_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line, *o;

	while (n < max) {
		f[n++] = o = p;
		if (*p == '"') {
			for (p++; *p && !(*p == '"' && p[1] != '"'); p++)
				*o++ = *p == '"' ? *++p : *p;
			if (*p == '"')
				p++;
		}
		while (*p && *p != ',')
			*o++ = *p++;
		if (*p != ',') {
			*o = '\0';
			break;
		}
		*o = '\0';
		p++;
	}
	return n;
}

/* contacts_split - the addresses of a contacts field (in place) into *out */
static size_t contacts_split(char *s, const char ***out)
{
	size_t n = 0;
	char *save = NULL;

	*out = calloc(strlen(s) / 2 + 1, sizeof **out);
	for (char *t = strtok_r(s, "; \t", &save); t && *out; t = strtok_r(NULL, "; \t", &save))
		(*out)[n++] = t;
	return n;
}

/* col_of - the index of column NAME, or -1 */
static int col_of(const char *name)
{
	for (int c = 0; c < COL_N; c++)
		if (strcasecmp(name, col_names[c]) == 0)
			return c;
	return -1;
}

/* header_map - the column index of each known column (-1 when missing); 0,
 * or -1 after naming FILE:1 (an unknown or repeated column, or no key) */
static int header_map(char **f, size_t n, int *map, const char *file)
{
	for (int c = 0; c < COL_N; c++)
		map[c] = -1;
	for (size_t i = 0; i < n; i++) {
		int c = col_of(f[i]);

		if (c < 0 || map[c] >= 0) {
			cli_error("%s:1: %s column '%s' (the columns: key,name,account,contacts,status)",
				  file, c < 0 ? "unknown" : "a second", f[i]);
			return -1;
		}
		map[c] = (int)i;
	}
	if (map[COL_KEY] < 0) {
		cli_error("%s:1: the header line needs a 'key' column (key,name,account,contacts,status)",
			  file);
		return -1;
	}
	return 0;
}

/* valid_address - local@domain.tld, no blanks, one '@' */
static int valid_address(const char *a)
{
	const char *at = strchr(a, '@');

	return at && at != a && !strchr(at + 1, '@') && strchr(at + 1, '.') &&
	       at[1] != '.' && a[strlen(a) - 1] != '.' && !strpbrk(a, " \t,<>\"");
}

/* row_fill - one data line of N fields (the header has NCOLS) into R; 0, or
 * -1 after naming FILE:LINE */
static int row_fill(char **f, size_t n, size_t ncols, const int *map, struct store_deal_row *r,
		    const char *file, unsigned line)
{
	const char *v[COL_N];

	if (n != ncols) {
		cli_error("%s:%u: %zu fields, but the header line has %zu", file, line, n, ncols);
		return -1;
	}
	for (int c = 0; c < COL_N; c++)
		v[c] = map[c] >= 0 ? f[map[c]] : "";
	if (!*v[COL_KEY]) {
		cli_error("%s:%u: empty key", file, line);
		return -1;
	}
	if (map[COL_STATUS] >= 0 && strcasecmp(v[COL_STATUS], "open") != 0 &&
	    strcasecmp(v[COL_STATUS], "closed") != 0) {
		cli_error("%s:%u: status must be open or closed, not '%s'", file, line, v[COL_STATUS]);
		return -1;
	}
	r->key = v[COL_KEY];
	r->name = v[COL_NAME];
	r->account = v[COL_ACCOUNT];
	r->open = strcasecmp(v[COL_STATUS], "closed") != 0;
	if (map[COL_CONTACTS] >= 0) {
		const char **list = NULL;

		r->n_contacts = contacts_split(f[map[COL_CONTACTS]], &list);
		r->contacts = list;
		for (size_t i = 0; list && i < r->n_contacts; i++)
			if (!valid_address(list[i])) {
				cli_error("%s:%u: '%s' is not an address (contacts: addresses "
					  "separated by ';')", file, line, list[i]);
				return -1;
			}
	}
	return 0;
}

/* key_repeated - the line of an earlier row with R's key, or 0 */
static unsigned key_repeated(const struct store_deal_row *rows, const unsigned *lines, size_t n,
			     const struct store_deal_row *r)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].key, r->key) == 0)
			return lines[i];
	return 0;
}

/* deals_import - crmctl deals import FILE.csv */
static int deals_import(struct cli *cli, const char *file)
{
	char *text, *line, *next, *f[DEALS_MAX_COLS], err[1024];
	struct store_deal_row *rows = NULL;
	unsigned *lines = NULL, earlier;
	size_t len, n = 0, nf, ncols = 0;
	unsigned lineno = 0;
	int map[COL_N], status = CLI_OK;
	struct store *st;

	text = read_file(file, DEALS_MAX_FILE, &len);
	if (!text) {
		cli_error("%s: %m", file);
		return CLI_USAGE;
	}
	rows = calloc(len / 2 + 2, sizeof *rows);
	lines = calloc(len / 2 + 2, sizeof *lines);
	/* Excel's "CSV UTF-8" starts with a byte order mark */
	line = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? text + 3 : text;
	for (; line && rows && lines && status == CLI_OK; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (line[0] && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (!*line || *line == '#')
			continue;
		nf = csv_fields(line, f, DEALS_MAX_COLS);
		if (lineno == 1) {
			status = header_map(f, nf, map, file) < 0 ? CLI_USAGE : CLI_OK;
			ncols = nf;
		} else if (row_fill(f, nf, ncols, map, &rows[n], file, lineno) < 0) {
			status = CLI_USAGE;
			n++;	/* its contacts are freed below */
		} else if ((earlier = key_repeated(rows, lines, n, &rows[n])) != 0) {
			cli_error("%s:%u: key '%s' is already on line %u", file, lineno, rows[n].key,
				  earlier);
			status = CLI_USAGE;
			n++;
		} else {
			lines[n++] = lineno;
		}
	}
	if (status == CLI_OK && (!rows || !lines)) {
		cli_error("out of memory");
		status = CLI_STORE;
	}
	st = status == CLI_OK ? cli_open_store(cli, 0) : NULL;
	if (status == CLI_OK && !st)
		status = CLI_STORE;
	if (st && store_deals_import(st, rows, n, err, sizeof err) != STORE_OK) {
		cli_error("%s", err);
		status = CLI_STORE;
	} else if (st) {
		printf("imported %zu deals\n", n);
	}
	store_close(st);
	for (size_t i = 0; rows && i < n; i++)
		free((void *)rows[i].contacts);
	free(rows);
	free(lines);
	free(text);
	return status;
}

/* deals_list - crmctl deals [list] [--json] */
static int deals_list(struct cli *cli, int json)
{
	char err[512];
	struct store *st = cli_open_store(cli, 1);
	json_t *v, *d, *c;
	size_t i, k;

	if (!st)
		return CLI_STORE;
	v = store_deals(st, err, sizeof err);
	store_close(st);
	if (!v) {
		cli_error("%s", err);
		return CLI_STORE;
	}
	if (json) {
		cli_print_json(v);
		return CLI_OK;
	}
	json_array_foreach(v, i, d) {
		printf("%-12s %-6s %-20s threads %3lld  %s  [", json_string_value(json_object_get(d, "key")),
		       json_string_value(json_object_get(d, "status")),
		       json_string_value(json_object_get(d, "account")) ?
		       json_string_value(json_object_get(d, "account")) : "-",
		       (long long)json_integer_value(json_object_get(d, "threads")),
		       json_string_value(json_object_get(d, "name")) ?
		       json_string_value(json_object_get(d, "name")) : "");
		json_array_foreach(json_object_get(d, "contacts"), k, c)
			printf("%s%s", k ? ", " : "", json_string_value(c));
		printf("]\n");
	}
	json_decref(v);
	return CLI_OK;
}

/* cmd_deals - crmctl deals import FILE.csv | deals [list] [--json] */
int cmd_deals(struct cli *cli, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[argc - 1], "--help") == 0 || strcmp(argv[argc - 1], "-h") == 0)) {
		printf("usage: crmctl deals import FILE.csv | crmctl deals [list] [--json]\n"
		       "  CSV: a header line, then one deal a line; columns key (required), name,\n"
		       "  account, contacts (addresses separated by ';'), status (open or closed);\n"
		       "  a bad line is named FILE:LINE and nothing is imported; see crmctl(8)\n");
		return CLI_OK;
	}
	if (argc == 3 && strcmp(argv[1], "import") == 0)
		return deals_import(cli, argv[2]);
	if (argc == 1 || (argc <= 3 && (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "--json") == 0)))
		return deals_list(cli, argc > 1 && strcmp(argv[argc - 1], "--json") == 0);
	fprintf(stderr, "usage: crmctl deals import FILE.csv | crmctl deals [list] [--json]\n"
			"  CSV columns: key,name,account,contacts,status (contacts: a;b;c)\n");
	return CLI_USAGE;
}
