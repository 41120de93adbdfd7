/*
 * mailto.c - Reply, Reply all and Write as mailto: links (RFC 6068): the
 * user's own mail client sends the message from the real mailbox, it
 * lands in the Sent folder, and crmilter logs it as it passes the MTA
 *
 * Public (view_int.h): mailto_reply, mailto_write.  A reply names the
 * message in In-Reply-To and References and, with ReplyAddress set, Bcc's
 * ReplyAddress with the message's reply tag (storage/reply.c), so that it
 * lands on the thread even from a client that drops the two headers from
 * links.  Every value is percent-encoded as UTF-8 (url_esc) but for the
 * '@' of addresses; line ends of the quoted text are CRLF (%0D%0A) as RFC
 * 6068 wants.  The quoted text is cut at MAILTO_QUOTE_MAX bytes, on a line
 * end: some clients refuse longer links.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "view_int.h"

#define MAILTO_QUOTE_MAX 1800 /* bytes of the replied message quoted in the link */
#define MAILTO_ADDRS_MAX 50   /* addresses in one link */

/* a list of addresses, each once, compared case-insensitively */
struct alist {
	const char *v[MAILTO_ADDRS_MAX];
	size_t n;
};

/* alist_add - add address A unless it is there, is SKIP, or the list is full */
static void alist_add(struct alist *l, const char *a, const char *skip)
{
	if (!a || !*a || (skip && strcasecmp(a, skip) == 0) || l->n == MAILTO_ADDRS_MAX)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], a) == 0)
			return;
	l->v[l->n++] = a;
}

/* alist_people - add the "address" of each person of LIST */
static void alist_people(struct alist *l, json_t *list, const char *skip)
{
	size_t i;
	json_t *p;

	json_array_foreach(list, i, p)
		alist_add(l, json_string_value(json_object_get(p, "address")), skip);
}

/* alist_minus - remove from L every address that is in OTHER */
static void alist_minus(struct alist *l, const struct alist *other)
{
	size_t i, j, k = 0;

	for (i = 0; i < l->n; i++) {
		for (j = 0; j < other->n && strcasecmp(l->v[i], other->v[j]) != 0; j++)
			;
		if (j == other->n)
			l->v[k++] = l->v[i];
	}
	l->n = k;
}

/* addr_esc - append address A percent-encoded, its '@' kept */
static void addr_esc(struct vbuf *b, const char *a)
{
	const char *at = strrchr(a, '@');
	char local[512];

	if (!at || (size_t)(at - a) >= sizeof local) {
		url_esc(b, a);
		return;
	}
	memcpy(local, a, (size_t)(at - a));
	local[at - a] = '\0';
	url_esc(b, local);
	vbuf_add(b, "@", 1);
	url_esc(b, at + 1);
}

/* alist_put - the addresses of L comma separated, encoded */
static void alist_put(struct vbuf *b, const struct alist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			vbuf_puts(b, ",");
		addr_esc(b, l->v[i]);
	}
}

/* field - "?NAME=" or "&NAME=" before a header field of the link */
static void field(struct vbuf *b, int *first, const char *name)
{
	vbuf_printf(b, "%c%s=", *first ? '?' : '&', name);
	*first = 0;
}

/* re_subject - "Re: " and SUBJECT without the reply prefixes it has ("Re:", "RE[2]:") */
static void re_subject(struct vbuf *b, const char *subject)
{
	const char *s = subject ? subject : "";

	for (;;) {
		const char *p = s;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "re", 2) != 0)
			break;
		p += 2;
		if (*p == '[') {
			p += strspn(p + 1, "0123456789") + 1;
			if (*p != ']')
				break;
			p++;
		}
		if (*p != ':')
			break;
		s = p + 1;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	url_esc(b, "Re: ");
	url_esc(b, s);
}

/* quote_line - "> LINE" CRLF into Q (LEN bytes of LINE) */
static void quote_line(struct vbuf *q, const char *line, size_t len)
{
	vbuf_puts(q, len && line[0] == '>' ? ">" : "> ");
	vbuf_add(q, line, len);
	vbuf_puts(q, "\r\n");
}

/* quoted_body - "On DATE, WHO wrote:" and M's body quoted, cut on a line end, encoded */
static void quoted_body(struct vbuf *b, json_t *m)
{
	const char *body = json_string_value(json_object_get(m, "body"));
	const char *date = json_string_value(json_object_get(m, "date"));
	json_t *from = json_object_get(m, "from");
	const char *who = json_string_length(json_object_get(from, "name"))
		? json_string_value(json_object_get(from, "name"))
		: json_string_value(json_object_get(from, "address"));
	struct vbuf q = { 0 };
	size_t len = body ? strlen(body) : 0, pos = 0, n;
	char when[64], *t;

	if (html_local_time(date, 1, when, sizeof when) < 0)
		snprintf(when, sizeof when, "%s", "an unknown date");
	vbuf_puts(&q, "\r\n\r\n");
	vbuf_printf(&q, "On %s, %s wrote:\r\n", when, who ? who : "someone");
	while (pos < len) {
		n = strcspn(body + pos, "\n");
		if (q.len + n + 4 > MAILTO_QUOTE_MAX) {
			vbuf_puts(&q, "> [...]\r\n");
			break;
		}
		quote_line(&q, body + pos, n && body[pos + n - 1] == '\r' ? n - 1 : n);
		pos += n + 1;
	}
	t = vbuf_take(&q, &n);
	url_esc(b, t ? t : "");
	vbuf_free(&q);
	free(t);
}

/*
 * reply_targets - whom a reply to M goes to, ME left out: the To of mail
 * our side sent out, or of ME's own; else Reply-To, else From
 */
static void reply_targets(struct alist *to, json_t *m, json_t *reply, const char *me)
{
	const char *dir = json_string_value(json_object_get(m, "direction"));
	const char *from = json_string_value(json_object_get(json_object_get(m, "from"), "address"));
	size_t i;
	json_t *a;

	if ((dir && strcmp(dir, "outbound") == 0) || (from && strcasecmp(from, me) == 0))
		alist_people(to, json_object_get(m, "to"), me);
	if (!to->n)
		json_array_foreach(json_object_get(reply, "reply_to"), i, a)
			alist_add(to, json_string_value(a), me);
	if (!to->n)
		alist_add(to, from, me);
}

/* mailto_reply - see view_int.h */
void mailto_reply(struct view_req *r, struct vbuf *b, json_t *m, int all)
{
	json_t *reply = json_object_get(m, "reply"), *ref;
	const char *me = r->user.address, *tag = json_string_value(json_object_get(reply, "tag"));
	const char *ra = r->app->conf->reply_address;
	struct alist to = { .n = 0 }, cc = { .n = 0 };
	int first = 1;
	size_t i;

	reply_targets(&to, m, reply, me);
	if (all) {
		alist_people(&cc, json_object_get(m, "to"), me);
		alist_people(&cc, json_object_get(m, "cc"), me);
		alist_add(&cc, json_string_value(json_object_get(json_object_get(m, "from"), "address")),
			  me);
		alist_minus(&cc, &to);
	}
	vbuf_puts(b, "mailto:");
	alist_put(b, &to);
	if (cc.n) {
		field(b, &first, "cc");
		alist_put(b, &cc);
	}
	if (ra && tag && strchr(ra, '@')) {
		field(b, &first, "bcc");
		vbuf_add(b, ra, (size_t)(strchr(ra, '@') - ra));
		vbuf_puts(b, "%2B");
		url_esc(b, tag);
		vbuf_puts(b, strchr(ra, '@'));
	}
	field(b, &first, "subject");
	re_subject(b, json_string_value(json_object_get(m, "subject")));
	field(b, &first, "in-reply-to");
	url_esc(b, "<");
	url_esc(b, json_string_value(json_object_get(reply, "message_id")));
	url_esc(b, ">");
	field(b, &first, "references");
	json_array_foreach(json_object_get(reply, "references"), i, ref) {
		url_esc(b, i ? " <" : "<");
		url_esc(b, json_string_value(ref));
		url_esc(b, ">");
	}
	field(b, &first, "body");
	quoted_body(b, m);
}

/* mailto_write - see view_int.h */
void mailto_write(struct view_req *r, struct vbuf *b, json_t *people, const char *key,
		  const char *subject)
{
	struct alist to = { .n = 0 };
	size_t i;
	json_t *p;

	json_array_foreach(people, i, p)
		alist_add(&to, json_string_value(json_is_string(p) ? p : json_object_get(p, key)),
			  r->user.address);
	vbuf_puts(b, "mailto:");
	alist_put(b, &to);
	if (subject && *subject) {
		vbuf_puts(b, "?subject=");
		url_esc(b, subject);
	}
}
