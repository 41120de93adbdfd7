/*
 * words.c - why a thread is where it is, in plain words: who can read it,
 * which record it is on and because of whom, why no rule could place it
 *
 * Public (view_int.h): words_visibility, words_link, words_unassigned,
 * words_private.  The words come from the thread model alone (visibility,
 * links with their rule, the contact they came through, the unassigned
 * reason); a rule's file:line and text are for admins (ADMIN), who also
 * see the stored reason as the rules wrote it.  Names, addresses, keys and
 * reasons came from mail or from the rules file: all escaped.
 */
#include <stdio.h>
#include <string.h>

#include "view_int.h"

/* str - string member KEY of O, or "" */
static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* outside_words - what people not inside see of a thread at level OUTSIDE */
static const char *outside_words(const char *outside)
{
	if (strcmp(outside, "everything") == 0)
		return "all of it";
	if (strcmp(outside, "subject") == 0)
		return "only who wrote to whom, when, and the subject";
	if (strcmp(outside, "metadata") == 0)
		return "only who wrote to whom, and when";
	return "nothing of it";
}

/* words_private - 1 when visibility VIS shows people not inside nothing (a private thread) */
int words_private(json_t *vis)
{
	return strcmp(str(vis, "outside"), "nothing") == 0;
}

/* words_visibility - "The sales team can read it; others see only ..." for visibility VIS */
void words_visibility(struct vbuf *b, json_t *vis, int admin)
{
	const char *inside = str(vis, "inside"), *reason = str(vis, "reason");

	if (strcmp(inside, "workspace") == 0 && strcmp(str(vis, "outside"), "everything") == 0) {
		vbuf_puts(b, "Everyone here can read it.");
	} else {
		if (strncmp(inside, "team:", 5) == 0) {
			vbuf_puts(b, "The <b>");
			html_esc(b, inside + 5);
			vbuf_puts(b, "</b> team can read it");
		} else if (strcmp(inside, "workspace") == 0) {
			vbuf_puts(b, "Everyone here can read it");
		} else {
			vbuf_puts(b, "The people on it can read it");
		}
		vbuf_printf(b, "; everyone else sees %s.", outside_words(str(vis, "outside")));
	}
	if (strcmp(reason, "marked private") == 0) {
		vbuf_puts(b, " The sender marked it private.");
	} else if (*reason) {
		vbuf_puts(b, " Reason: \xe2\x80\x9c");
		html_esc(b, reason);
		vbuf_puts(b, "\xe2\x80\x9d.");
	}
	if (admin) {
		vbuf_puts(b, " \xe2\x80\x94 ");
		html_rule(b, json_object_get(vis, "rule"));
	}
}

/* person - "Name (WHAT)" or the address alone, WHAT the address or (DOMAIN) its domain */
static void person(struct vbuf *b, json_t *p, int domain)
{
	const char *name = str(p, "name"), *addr = str(p, "address");
	const char *at = strrchr(addr, '@');

	if (!*name) {
		html_esc(b, addr);
		return;
	}
	html_esc(b, name);
	vbuf_puts(b, " (");
	html_esc(b, domain && at ? at + 1 : addr);
	vbuf_puts(b, ")");
}

/* record_link - the link's record named and linked: its name, else its key */
static void record_link(struct vbuf *b, json_t *l)
{
	const char *kind = str(l, "kind");

	vbuf_printf(b, "<a href=\"/%ss/%lld\">", kind,
		    (long long)json_integer_value(json_object_get(l, "id")));
	html_esc(b, *str(l, "name") ? str(l, "name") : str(l, "key"));
	vbuf_puts(b, "</a>");
}

/* capture_words - why a contact became one, from the rule that made it (CAPTURED, may be NULL) */
static const char *capture_words(json_t *captured)
{
	const char *text = str(captured, "text");

	if (strcmp(text, "policy sent") == 0)
		return ", a contact since someone here wrote to them";
	if (strcmp(text, "policy sent-and-received") == 0)
		return ", a contact since they and someone here wrote to each other";
	if (strncmp(text, "always", 6) == 0)
		return ", always a contact by the rules";
	return ", a contact";
}

/* deal_words - why the thread is on deal link L ("because its key is in the subject") */
static void deal_words(struct vbuf *b, json_t *l)
{
	const char *text = str(json_object_get(l, "rule"), "text");
	json_t *via = json_object_get(l, "via");

	if (strncmp(text, "deal single-open", 16) == 0) {
		vbuf_puts(b, " because it is the one open deal of ");
		if (json_is_object(via))
			person(b, via, 0);
		else
			vbuf_puts(b, "someone on it");
	} else if (strncmp(text, "deal header", 11) == 0) {
		vbuf_puts(b, " because a header of the mail names <b>");
		html_esc(b, str(l, "key"));
		vbuf_puts(b, "</b>");
	} else if (strncmp(text, "deal", 4) == 0) {
		vbuf_puts(b, " because its subject names <b>");
		html_esc(b, str(l, "key"));
		vbuf_puts(b, "</b>");
	} else if (json_is_object(via)) {
		vbuf_puts(b, " because ");
		person(b, via, 0);
		vbuf_puts(b, " is in it");
	}
}

/*
 * words_link - one link L in words: "On Acme because Bob Jones (acme.test)
 * is in it", "Listed under Bob Jones (bob@acme.test), who is in it, a
 * contact since someone here wrote to them", "On deal X because its subject
 * names X"; ADMIN adds the rules that made it
 */
void words_link(struct vbuf *b, json_t *l, int admin)
{
	const char *kind = str(l, "kind");
	json_t *via = json_object_get(l, "via"), *captured = json_object_get(l, "captured_by");

	if (strcmp(kind, "contact") == 0) {
		vbuf_puts(b, "Listed under ");
		record_link(b, l);
		if (*str(l, "name")) {
			vbuf_puts(b, " (");
			html_esc(b, str(l, "key"));
			vbuf_puts(b, ")");
		}
		vbuf_printf(b, ", who is in it%s.", capture_words(captured));
	} else if (strcmp(kind, "deal") == 0) {
		vbuf_puts(b, "On the deal ");
		record_link(b, l);
		deal_words(b, l);
		vbuf_puts(b, ".");
	} else {
		vbuf_puts(b, "On ");
		record_link(b, l);
		vbuf_puts(b, " because ");
		if (json_is_object(via)) {
			person(b, via, 1);
		} else {
			vbuf_puts(b, "someone from ");
			html_esc(b, str(l, "key"));
		}
		vbuf_puts(b, " is in it.");
	}
	if (!admin)
		return;
	vbuf_puts(b, " \xe2\x80\x94 ");
	html_rule(b, json_object_get(l, "rule"));
	if (json_is_object(captured)) {
		vbuf_puts(b, "; made a contact by ");
		html_rule(b, captured);
	}
}

/* starts - 1 when S starts with P */
static int starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/*
 * words_unassigned - why no rule could place a thread, from its stored
 * REASON (storage/decide.c, rules/eval.c), in plain words; a reason the
 * rules file wrote is shown as it is.  ADMIN adds the stored reason.
 */
void words_unassigned(struct vbuf *b, json_t *reason, int admin)
{
	const char *r = json_string_value(reason), *of;

	if (!r || !*r)
		return;
	if (strcmp(r, "no external participant") == 0) {
		vbuf_puts(b, "Nobody from outside is on it.");
	} else if (strcmp(r, "no external participant is a contact") == 0) {
		vbuf_puts(b, "Nobody on it from outside is a contact yet.");
	} else if (starts(r, "inbound mail not authenticated")) {
		vbuf_puts(b, "The sender's mail could not be verified (not authenticated), "
			  "so it is filed under nobody.");
	} else if ((starts(r, "two open deals for ") || starts(r, "several open deals for ")) &&
		   (of = strstr(r, " for ")) != NULL) {
		html_esc(b, of + 5);
		vbuf_printf(b, " has %s open deals: which one it belongs to is not clear.",
			    r[0] == 't' ? "two" : "several");
	} else {
		html_esc(b, r);
		return;
	}
	if (admin) {
		vbuf_puts(b, " <span class=\"rule\"><code>");
		html_esc(b, r);
		vbuf_puts(b, "</code></span>");
	}
}
