/*
 * subject.c - subjects and Thread-Index: the keys threads are joined by
 *
 * Public: mail_subject_normalise (reply/forward prefixes and list tags
 * stripped, whitespace collapsed, lower case), mail_subject_is_placeholder
 * (what a mailer writes where there is no subject: "(no subject)",
 * "Subject Unavailable", auto-replies and bounces), mail_subject_is_generic
 * (placeholders and subjects too common to join threads by),
 * mail_thread_index_key (the conversation part of Outlook's Thread-Index).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail_int.h"

/* longest "[list tag]" we strip */
#define LIST_TAG_MAX 64
/* bytes of Thread-Index that name the conversation */
#define THREAD_INDEX_KEY_LEN 22

/* reply and forward prefixes, matched case-insensitively before a colon */
static const char *const subject_prefixes[] = {
	"re", "fw", "fwd", "aw", "wg", "sv", "vs", "antw", "antwort", "tr",
	"rv", "ref", "res", "enc", "odp", "pd", "ynt", "ilt", "r", "rif",
	"doorst", "atb", "vb", "vl", "fs", "bls", "yml",
	"回复", "回覆", "答复", "答覆", "转发", "轉寄", "轉發", "返信", "転送",
	NULL
};

/* skip_space - first byte after ASCII white space */
static const char *skip_space(const char *s)
{
	while (*s && g_ascii_isspace(*s))
		s++;
	return s;
}

/* skip_colon - after an ASCII or full-width colon at S, or NULL */
static const char *skip_colon(const char *s)
{
	if (*s == ':')
		return s + 1;
	if (strncmp(s, "\xef\xbc\x9a", 3) == 0)  /* U+FF1A FULLWIDTH COLON */
		return s + 3;
	return NULL;
}

/* skip_counter - past "[2]", "(2)" or "^2" after a prefix */
static const char *skip_counter(const char *s)
{
	const char *p = s;
	char close;

	if (*p == '^') {
		p++;
		while (g_ascii_isdigit(*p))
			p++;
		return p;
	}
	if (*p != '[' && *p != '(')
		return s;
	close = *p == '[' ? ']' : ')';
	p++;
	if (!g_ascii_isdigit(*p))
		return s;
	while (g_ascii_isdigit(*p))
		p++;
	return *p == close ? p + 1 : s;
}

/* strip_prefix - past one "Re:"-like prefix at S, or NULL when there is none */
static const char *strip_prefix(const char *s)
{
	for (size_t i = 0; subject_prefixes[i]; i++) {
		size_t n = strlen(subject_prefixes[i]);
		const char *p, *c;

		if (g_ascii_strncasecmp(s, subject_prefixes[i], n) != 0)
			continue;
		p = skip_counter(s + n);
		while (*p == ' ')  /* French "Re :" */
			p++;
		if ((c = skip_colon(p)) != NULL)
			return c;
	}
	return NULL;
}

/* strip_tag - past a leading "[list tag]", or NULL when there is none */
static const char *strip_tag(const char *s)
{
	const char *close;

	if (*s != '[')
		return NULL;
	close = strchr(s, ']');
	if (close == NULL || close - s > LIST_TAG_MAX || close == s + 1)
		return NULL;
	if (memchr(s + 1, '[', (size_t)(close - s - 1)) != NULL)
		return NULL;
	return close + 1;
}

/*
 * mail_subject_normalise - thread-matching form of a subject
 *
 * Repeatedly strips white space, reply/forward prefixes and list tags from
 * the front, then collapses white space and lower-cases (UTF-8 aware).
 * NULL is treated as "".  Returns a new string (free()), or NULL when
 * memory runs out.
 */
char *mail_subject_normalise(const char *subject)
{
	const char *s = subject ? subject : "", *next;
	GString *g;
	char *lower, *out;
	int space = 0;

	for (;;) {
		s = skip_space(s);
		if ((next = strip_prefix(s)) == NULL && (next = strip_tag(s)) == NULL)
			break;
		s = next;
	}
	g = g_string_sized_new(strlen(s) + 1);
	for (; *s; s++) {
		if (g_ascii_isspace(*s)) {
			space = 1;
			continue;
		}
		if (space && g->len > 0)
			g_string_append_c(g, ' ');
		space = 0;
		g_string_append_c(g, *s);
	}
	if (g_utf8_validate(g->str, (gssize)g->len, NULL))
		lower = g_utf8_strdown(g->str, (gssize)g->len);
	else
		lower = g_ascii_strdown(g->str, (gssize)g->len);
	g_string_free(g, TRUE);
	out = strdup(lower);
	g_free(lower);
	return out;
}

/*
 * normalised placeholders: what a mailer writes when there is no subject
 * (or hides it: encrypted mail with protected headers shows "Subject
 * Unavailable", "..." or "Encrypted Message" outside), a reply prefix
 * alone, and the fixed subjects of auto-replies, bounces and receipts
 */
static const char *const placeholder_subjects[] = {
	"no subject", "(no subject)", "[no subject]", "<no subject>", "none", "(none)",
	"untitled", "(untitled)", "kein betreff", "(kein betreff)", "sans objet",
	"(sans objet)", "sin asunto", "(sin asunto)", "senza oggetto", "geen onderwerp",
	"subject unavailable", "encrypted message", "encrypted subject", "\xe2\x80\xa6",
	"p\xe2\x89\xa1p", "re", "fw", "fwd",
	"out of office", "out of the office", "out of office reply", "out of office autoreply",
	"automatic reply", "auto reply", "auto-reply", "autoreply", "auto response",
	"automatic response", "abwesenheitsnotiz", "r\xc3\xa9ponse automatique",
	"undeliverable", "undeliverable mail", "undelivered mail returned to sender",
	"delivery status notification", "delivery status notification (failure)",
	"delivery status notification (delay)", "delivery failure", "failure notice",
	"mail delivery failed", "mail delivery failed: returning message to sender",
	"mail delivery system", "returned mail", "returned mail: see transcript for details",
	"unzustellbar", "nicht zustellbar", "non remis", "read receipt", "return receipt",
	NULL
};

/* markers before a colon that make the whole subject a placeholder ("Automatic reply: X") */
static const char *const placeholder_prefixes[] = {
	"automatic reply", "auto reply", "auto-reply", "autoreply", "auto response",
	"out of office", "out of office reply", "abwesenheitsnotiz", "r\xc3\xa9ponse automatique",
	"undeliverable", "undelivered", "unzustellbar", "non remis", "delivery status notification",
	"returned mail", "mail delivery failed", "read", "not read", "gelesen", "ungelesen",
	NULL
};

/* normalised subjects that say nothing about the conversation */
static const char *const generic_subjects[] = {
	"hello", "hi", "hey", "hallo", "bonjour", "hola", "ciao", "test",
	"testing", "question", "questions", "quick question", "a question",
	"meeting", "meeting request", "meeting notes", "call", "phone call",
	"invoice", "invoices", "your invoice", "rechnung", "facture", "factura",
	"update", "updates", "info", "information", "request", "inquiry",
	"enquiry", "anfrage", "follow up", "follow-up", "followup", "thanks",
	"thank you", "danke", "merci", "fyi", "urgent", "important",
	"document", "documents", "contract", "offer", "angebot", "quote",
	"quotation", "proposal", "order", "your order", "agenda", "notes",
	"help", "hello there", "termin", "reminder", "checking in", "introduction", "contact",
	"feedback", "files", "file", "attachment", "photos", "pictures",
	"scan", "scanned document", "report", "status", "news", "greetings",
	NULL
};

/* on_list - 1 when S is one of LIST */
static int on_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* has_marker - 1 when S starts with one of LIST followed by a colon */
static int has_marker(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++) {
		size_t n = strlen(list[i]);

		if (strncmp(s, list[i], n) == 0 && skip_colon(skip_space(s + n)) != NULL)
			return 1;
	}
	return 0;
}

/*
 * trimmed - copy NORMALISED into BUF (LEN bytes) without trailing "!?.: ";
 * 0 when it does not fit (no list entry is that long)
 */
static int trimmed(const char *normalised, char *buf, size_t len)
{
	size_t n = strlen(normalised);

	if (n >= len)
		return 0;
	memcpy(buf, normalised, n + 1);
	while (n > 0 && strchr("!?.: ", buf[n - 1]) != NULL)
		buf[--n] = '\0';
	return 1;
}

/*
 * mail_subject_is_placeholder - 1 when a normalised subject stands where
 * a mailer had none: empty or only "!?.:", on the placeholder list
 * (trailing "!?.:" ignored), or opened by an auto-reply, bounce or receipt marker
 * ("automatic reply: ...", "undeliverable: ...", "read: ..."); else 0.
 */
int mail_subject_is_placeholder(const char *normalised)
{
	char buf[64];

	if (normalised == NULL || *normalised == '\0')
		return 1;
	if (has_marker(normalised, placeholder_prefixes))
		return 1;
	return trimmed(normalised, buf, sizeof buf) &&
	       (buf[0] == '\0' || on_list(buf, placeholder_subjects));
}

/*
 * mail_subject_is_generic - 1 when a normalised subject is too common to
 * join threads by: a placeholder, shorter than 3 characters, only
 * punctuation, or on the generic list (trailing "!?.:" ignored); else 0.
 */
int mail_subject_is_generic(const char *normalised)
{
	char buf[64];
	int alnum = 0;

	if (mail_subject_is_placeholder(normalised))
		return 1;
	if (g_utf8_strlen(normalised, -1) < 3)
		return 1;
	for (const char *p = normalised; *p; p++)
		if (g_ascii_isalnum(*p) || (unsigned char)*p >= 0x80)
			alnum = 1;
	if (!alnum)
		return 1;
	return trimmed(normalised, buf, sizeof buf) && on_list(buf, generic_subjects);
}

/* b64_value - value of a base64 digit, or -1 */
static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * mail_thread_index_key - hex of the first 22 bytes of a base64 Thread-Index
 *
 * White space is ignored; any other non-base64 byte, or fewer than 22
 * decoded bytes, makes the header malformed.  Returns a new lower-case hex
 * string (free()) or NULL.
 */
char *mail_thread_index_key(const char *thread_index)
{
	unsigned char bytes[THREAD_INDEX_KEY_LEN];
	size_t nbytes = 0;
	unsigned acc = 0;
	int bits = 0;
	char *out;

	if (thread_index == NULL)
		return NULL;
	for (const char *p = thread_index; *p && nbytes < sizeof(bytes); p++) {
		int v;

		if (g_ascii_isspace(*p))
			continue;
		if (*p == '=')
			break;
		if ((v = b64_value(*p)) < 0)
			return NULL;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bytes[nbytes++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (nbytes < sizeof(bytes))
		return NULL;
	out = malloc(2 * sizeof(bytes) + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
	return out;
}
