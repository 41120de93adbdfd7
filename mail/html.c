/*
 * html.c - HTML mail bodies made into readable text (libxml2)
 *
 * mail_html_to_text() parses with libxml2's forgiving HTML parser and walks
 * the tree without recursion (so a hostile nesting depth costs nothing):
 * script, style, head and similar are skipped; block elements give line
 * breaks, paragraphs and headings blank lines; list items start with "- ";
 * the content of a blockquote comes out as ">"-prefixed lines, so that
 * quote.c sees it as quoted history.  White space is collapsed as a
 * browser would, except inside <pre>.  Outlook's <![if ...]> and <![endif]>
 * markers are dropped first (drop_conditionals).  No regular expressions.
 */
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "mail_int.h"

/* consecutive newlines kept (one blank line) */
#define MAX_NEWLINES 2

struct html_out {
	GString *g;
	size_t cap;       /* stop adding text beyond this many bytes */
	int quote;        /* blockquote depth */
	int pre;          /* <pre> depth */
	int line_start;   /* nothing written on the current line yet */
	int space;        /* a space is pending before the next text */
	int newlines;     /* newlines at the end of the output */
};

/* elements whose content is never text */
static const char *const skipped[] = {
	"script", "style", "head", "title", "template", "noscript", "object",
	"embed", "iframe", "svg", "math", "select", "button", "textarea", NULL
};

/* elements that start and end a line */
static const char *const blocks[] = {
	"div", "section", "article", "header", "footer", "nav", "aside", "main",
	"figure", "figcaption", "address", "form", "fieldset", "center", "dl",
	"dt", "dd", "tr", "table", "tbody", "thead", "tfoot", "caption", "pre",
	"ul", "ol", "hr", "li", "blockquote", "body", "html", NULL
};

/* elements that are set off by a blank line */
static const char *const paragraphs[] = {
	"p", "h1", "h2", "h3", "h4", "h5", "h6", NULL
};

/* in_list - 1 when NAME is in LIST */
static int in_list(const char *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

/* prefix - write the quote marks that start a line inside blockquotes */
static void prefix(struct html_out *o)
{
	if (!o->line_start || o->quote == 0)
		return;
	for (int i = 0; i < o->quote && i < 16; i++)
		g_string_append_c(o->g, '>');
	g_string_append_c(o->g, ' ');
}

/* newline - end the current line (at most MAX_NEWLINES in a row) */
static void newline(struct html_out *o)
{
	if (o->g->len >= o->cap || o->newlines >= MAX_NEWLINES || o->g->len == 0)
		return;
	if (o->line_start && o->quote > 0) {
		for (int i = 0; i < o->quote && i < 16; i++)
			g_string_append_c(o->g, '>');
	}
	g_string_append_c(o->g, '\n');
	o->newlines++;
	o->line_start = 1;
	o->space = 0;
}

/* block_break - make sure the next text starts a line; BLANK asks for an empty line too */
static void block_break(struct html_out *o, int blank)
{
	if (!o->line_start)
		newline(o);
	if (blank && o->newlines < 2)
		newline(o);
	o->space = 0;
}

/* put_char - write one byte of visible text (prefix and pending space first) */
static void put_char(struct html_out *o, char c)
{
	if (o->line_start)
		prefix(o);
	else if (o->space)
		g_string_append_c(o->g, ' ');
	g_string_append_c(o->g, c);
	o->line_start = 0;
	o->space = 0;
	o->newlines = 0;
}

/* put_text - write a text node: white space collapsed, or kept inside <pre> */
static void put_text(struct html_out *o, const char *s)
{
	for (; *s && o->g->len < o->cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (o->pre) {
			if (c == '\n')
				newline(o);
			else if (c != '\r')
				put_char(o, (char)c);
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			if (!o->line_start)
				o->space = 1;
			continue;
		}
		if (c == 0xc2 && (unsigned char)s[1] == 0xa0) {  /* no-break space */
			s++;
			if (!o->line_start)
				o->space = 1;
			continue;
		}
		put_char(o, (char)c);
	}
}

/* enter - an element or text node is reached; returns 1 to visit its children */
static int enter(struct html_out *o, xmlNode *n)
{
	const char *name;

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content != NULL)
			put_text(o, (const char *)n->content);
		return 0;
	}
	if (n->type != XML_ELEMENT_NODE || n->name == NULL)
		return 0;
	name = (const char *)n->name;
	if (in_list(name, skipped))
		return 0;
	if (strcmp(name, "br") == 0) {
		newline(o);
	} else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
		if (!o->line_start)
			o->space = 1;
	} else if (in_list(name, paragraphs)) {
		block_break(o, 1);
	} else if (in_list(name, blocks)) {
		block_break(o, 0);
		if (strcmp(name, "blockquote") == 0)
			o->quote++;
		else if (strcmp(name, "pre") == 0)
			o->pre++;
		else if (strcmp(name, "li") == 0) {
			put_char(o, '-');
			o->space = 1;
		}
	}
	return 1;
}

/* leave - all children of element N have been visited */
static void leave(struct html_out *o, xmlNode *n)
{
	const char *name;

	if (n->type != XML_ELEMENT_NODE || n->name == NULL)
		return;
	name = (const char *)n->name;
	if (in_list(name, skipped))
		return;
	if (in_list(name, paragraphs)) {
		block_break(o, 1);
	} else if (in_list(name, blocks)) {
		block_break(o, 0);
		if (strcmp(name, "blockquote") == 0 && o->quote > 0)
			o->quote--;
		else if (strcmp(name, "pre") == 0 && o->pre > 0)
			o->pre--;
	}
}

/* walk_tree - visit every node of DOC in document order, without recursion */
static void walk_tree(struct html_out *o, xmlDoc *doc)
{
	xmlNode *top = (xmlNode *)doc;
	xmlNode *n = doc->children;

	while (n != NULL && o->g->len < o->cap) {
		if (enter(o, n) && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != NULL) {
			leave(o, n);
			if (n->next != NULL) {
				n = n->next;
				break;
			}
			n = n->parent;
			if (n == NULL || n == top)
				n = NULL;
		}
	}
}

/* trim_text - drop white space at both ends of G */
static void trim_text(GString *g)
{
	size_t start = 0;

	while (g->len > 0 && g_ascii_isspace(g->str[g->len - 1]))
		g_string_truncate(g, g->len - 1);
	while (start < g->len && (g->str[start] == '\n' || g->str[start] == ' '))
		start++;
	g_string_erase(g, 0, (gssize)start);
}

/*
 * mail_html_to_text - readable UTF-8 text of an HTML document
 *
 * HTML is UTF-8 (any <meta> charset is ignored: the caller converted it).
 * The text is cut near CAP bytes.  Returns a new string (g_free()); HTML
 * libxml2 cannot read at all gives "".
 */
/*
 * drop_conditionals - HTML (LEN bytes) without Outlook's "downlevel-revealed"
 * markers <![if ...]> and <![endif]>, which libxml2 keeps as text; what
 * they enclose stays (the list numbers Word writes).  Returns a new copy
 * (g_free()), or NULL when there are none.
 */
static char *drop_conditionals(const char *html, size_t *len)
{
	const char *p = html, *end = html + *len, *m;
	GString *g = NULL;

	while ((m = memmem(p, (size_t)(end - p), "<![", 3)) != NULL) {
		const char *q = m + 3, *close = memmem(q, (size_t)(end - q), "]>", 2);

		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (!close)
			break;
		int endif = end - q >= 5 && g_ascii_strncasecmp(q, "endif", 5) == 0;
		int is_if = end - q >= 3 && g_ascii_strncasecmp(q, "if", 2) == 0 && !g_ascii_isalpha(q[2]);
		if (!endif && !is_if) {	/* another "<![": kept as it is */
			if (g)
				g_string_append_len(g, p, close + 2 - p);
			else
				g = g_string_new_len(html, close + 2 - html);
			p = close + 2;
			continue;
		}
		if (!g)
			g = g_string_new_len(html, m - html);
		else
			g_string_append_len(g, p, m - p);
		p = close + 2;
	}
	if (!g)
		return NULL;
	g_string_append_len(g, p, end - p);
	*len = g->len;
	return g_string_free(g, FALSE);
}

char *mail_html_to_text(const char *html, size_t len, size_t cap)
{
	struct html_out o;
	xmlDoc *doc;
	char *out, *clean = drop_conditionals(html, &len);

	if (clean)
		html = clean;

	memset(&o, 0, sizeof(o));
	o.g = g_string_new(NULL);
	o.cap = cap;
	o.line_start = 1;
	if (len > 0 && len < G_MAXINT) {
		doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
				     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				     HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC);
		if (doc != NULL) {
			walk_tree(&o, doc);
			xmlFreeDoc(doc);
		}
	}
	g_free(clean);
	trim_text(o.g);
	out = g_string_free(o.g, FALSE);
	if (!g_utf8_validate(out, -1, NULL)) {
		char *valid = g_utf8_make_valid(out, -1);

		g_free(out);
		out = valid;
	}
	return out;
}
