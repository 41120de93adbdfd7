/*
 * test_mail.c - unit tests of the mail module: mail_parse and the helpers
 *
 * Each test builds its message as a C string and checks one behaviour of
 * mail.h.  The address vectors of ../shared/corpus (stalwart-mail-parser)
 * are checked when that folder exists, and skipped otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include <glib.h>
#include <jansson.h>

#include "../../mail/mail.h"

/* parse_opts - parse S (NUL-terminated) with OPTS, asserting success */
static struct mail_record *parse_opts(const char *s, const struct mail_parse_opts *opts)
{
	struct mail_record *rec = NULL;

	assert_int_equal(mail_parse(s, strlen(s), opts, &rec), 0);
	assert_non_null(rec);
	assert_non_null(rec->message_id);
	assert_non_null(rec->subject);
	assert_non_null(rec->body);
	assert_non_null(rec->snippet);
	return rec;
}

/* parse - parse S without options */
static struct mail_record *parse(const char *s)
{
	return parse_opts(s, NULL);
}

/* span_text - the body bytes of quote span I, as a new string */
static char *span_text(const struct mail_record *rec, size_t i)
{
	assert_true(i < rec->n_quotes);
	assert_true(rec->quotes[i].start + rec->quotes[i].len <= rec->body_len);
	return strndup(rec->body + rec->quotes[i].start, rec->quotes[i].len);
}

/* has_warning - 1 when a warning contains NEEDLE */
static int has_warning(const struct mail_record *rec, const char *needle)
{
	for (size_t i = 0; i < rec->n_warnings; i++)
		if (strstr(rec->warnings[i], needle) != NULL)
			return 1;
	return 0;
}

/* ---- identifiers, dates, layout ---- */

static void test_empty_input(void **state)
{
	struct mail_record *rec = (void *)1;

	(void)state;
	assert_int_equal(mail_parse("", 0, NULL, &rec), -1);
	assert_null(rec);
	mail_record_free(NULL);
}

static void test_ids(void **state)
{
	struct mail_record *rec = parse(
		"Message-ID:  < Abc.123@Example.COM >\n"
		"In-Reply-To: <p1@x> <p2@x>\n"
		"References: <r1@x>\n <r2@x> <r1@x>\n\t<Abc.123@Example.COM> <r3@x>\n"
		"Subject: hi\n\nbody\n");

	(void)state;
	assert_string_equal(rec->message_id, "Abc.123@Example.COM");
	assert_string_equal(rec->in_reply_to, "p1@x");
	assert_int_equal(rec->n_in_reply_to, 2);
	assert_int_equal(rec->n_references, 3);
	assert_string_equal(rec->references[0], "r1@x");
	assert_string_equal(rec->references[1], "r2@x");
	assert_string_equal(rec->references[2], "r3@x");
	assert_false(rec->flags & MAIL_NO_MSGID);
	mail_record_free(rec);
}

static void test_references_cap(void **state)
{
	size_t cap = 64 + 300 * 16;
	char *msg = malloc(cap), *p = msg;
	struct mail_record *rec;

	(void)state;
	p += sprintf(p, "Message-ID: <m@x>\nReferences:");
	for (int i = 0; i < 300; i++)
		p += sprintf(p, " <id%d@x>", i);
	sprintf(p, "\n\nbody\n");
	rec = parse(msg);
	assert_int_equal(rec->n_references, MAIL_MAX_REFERENCES);
	assert_string_equal(rec->references[0], "id100@x");
	assert_string_equal(rec->references[MAIL_MAX_REFERENCES - 1], "id299@x");
	mail_record_free(rec);
	free(msg);
}

static void test_missing_msgid_synthetic(void **state)
{
	static const char lf[] =
		"Received: from a by b; Mon, 1 Jan 2024 10:00:00 +0000\n"
		"From: Ann <ann@example.com>\n"
		"To: bob@example.org\n"
		"Subject: Same\n"
		" message\n"
		"Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
		"\n"
		"line one\n"
		"line two\n";
	static const char crlf[] =
		"Return-Path: <ann@example.com>\r\n"
		"Received: from c by d; Mon, 1 Jan 2024 10:00:01 +0000\r\n"
		"Received: from e by f; Mon, 1 Jan 2024 10:00:02 +0000\r\n"
		"From: Ann <ann@example.com>\r\n"
		"To: bob@example.org\r\n"
		"Subject: Same\r\n"
		" message\r\n"
		"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
		"\r\n"
		"line one\r\n"
		"line two\r\n";
	struct mail_record *a = parse(lf), *b = parse(crlf), *c;
	const char *at;

	(void)state;
	assert_true(a->flags & MAIL_NO_MSGID);
	assert_true(b->flags & MAIL_NO_MSGID);
	assert_string_equal(a->message_id, b->message_id);
	at = strchr(a->message_id, '@');
	assert_non_null(at);
	assert_int_equal(at - a->message_id, 32);
	assert_string_equal(at, "@crmilter.invalid");
	assert_true(has_warning(a, "Message-ID"));
	/* a different body gives a different id */
	c = parse("From: Ann <ann@example.com>\nTo: bob@example.org\nSubject: Same message\n"
		  "Date: Mon, 1 Jan 2024 10:00:00 +0000\n\nline one\nline 2\n");
	assert_string_not_equal(a->message_id, c->message_id);
	mail_record_free(a);
	mail_record_free(b);
	mail_record_free(c);
}

static void test_date_parsed(void **state)
{
	struct mail_record *rec = parse("Date: Mon, 1 Jan 2024 12:00:00 +0200\nMessage-ID: <d@x>\n\nx\n");

	(void)state;
	assert_int_equal(rec->date, 1704103200);  /* 2024-01-01 10:00:00 UTC */
	assert_false(rec->flags & MAIL_BAD_DATE);
	mail_record_free(rec);
}

static void test_date_fallback(void **state)
{
	struct mail_parse_opts opts = { .fallback_date = 1700000000, .truncated = 1 };
	struct mail_record *old, *future, *missing, *junk;

	(void)state;
	old = parse_opts("Date: Thu, 1 Jan 1970 00:00:00 +0000\n\nx\n", &opts);
	future = parse_opts("Date: Fri, 1 Jan 2099 00:00:00 +0000\n\nx\n", &opts);
	missing = parse_opts("Subject: no date\n\nx\n", &opts);
	junk = parse_opts("Date: yesterday-ish\n\nx\n", &opts);
	assert_int_equal(old->date, 1700000000);
	assert_int_equal(future->date, 1700000000);
	assert_int_equal(missing->date, 1700000000);
	assert_int_equal(junk->date, 1700000000);
	assert_true(old->flags & MAIL_BAD_DATE);
	assert_true(future->flags & MAIL_BAD_DATE);
	assert_true(missing->flags & MAIL_BAD_DATE);
	assert_true(junk->flags & MAIL_BAD_DATE);
	assert_true(has_warning(old, "Date"));
	assert_true(old->flags & MAIL_TRUNCATED);
	mail_record_free(old);
	mail_record_free(future);
	mail_record_free(missing);
	mail_record_free(junk);
}

/*
 * a Date 30 days after this host's clock is not absurd when the relays'
 * Received stamps agree with it (this clock is behind); without them it is;
 * a Received stamp far in the future vouches for nothing
 */
static void test_date_clock_behind(void **state)
{
	/* the fallback (arrival by this clock): 2023-10-15; the mail was written 2023-11-14 */
	struct mail_parse_opts opts = { .fallback_date = 1697371200 };
	struct mail_record *vouched, *alone, *far;

	(void)state;
	vouched = parse_opts("Received: from mail.acme.com by mx.acme.com with ESMTPS id 1;\n"
			     "\tTue, 14 Nov 2023 22:13:20 +0000\n"
			     "Date: Tue, 14 Nov 2023 22:13:00 +0000\n\nx\n", &opts);
	alone = parse_opts("Date: Tue, 14 Nov 2023 22:13:00 +0000\n\nx\n", &opts);
	far = parse_opts("Received: by mx.evil.test; Fri, 1 Jan 2099 00:00:00 +0000\n"
			 "Date: Fri, 1 Jan 2099 00:00:00 +0000\n\nx\n", &opts);
	assert_int_equal(vouched->date, 1700000000 - 20);
	assert_false(vouched->flags & MAIL_BAD_DATE);
	assert_int_equal(alone->date, 1697371200);
	assert_true(alone->flags & MAIL_BAD_DATE);
	assert_int_equal(far->date, 1697371200);
	assert_true(far->flags & MAIL_BAD_DATE);
	mail_record_free(vouched);
	mail_record_free(alone);
	mail_record_free(far);
}

static void test_layout(void **state)
{
	static const char msg[] = "Subject: a\r\nX-Other: b\r\n\r\nbody\r\n";
	static const char nohdr[] = "Subject: only headers\n";
	struct mail_record *rec = parse(msg), *rec2 = parse(nohdr);

	(void)state;
	assert_int_equal(rec->size, strlen(msg));
	assert_int_equal(rec->header_len, strlen("Subject: a\r\nX-Other: b\r\n\r\n"));
	assert_string_equal(rec->body, "body");
	assert_int_equal(rec2->header_len, strlen(nohdr));
	mail_record_free(rec);
	mail_record_free(rec2);
}

static void test_garbage_input(void **state)
{
	static const char bin[] = "\x01\x02\xff\xfe\n\n\x80\x81garbage <<< >>> --\n";
	struct mail_record *rec = NULL;

	(void)state;
	assert_int_equal(mail_parse(bin, sizeof(bin) - 1, NULL, &rec), 0);
	assert_non_null(rec->message_id);
	assert_true(rec->flags & MAIL_NO_MSGID);
	assert_true(rec->flags & MAIL_BAD_DATE);
	assert_true(rec->date > 0);
	mail_record_free(rec);
	rec = parse("just some text without any header\nmore text\n");
	assert_non_null(strstr(rec->body, "more text"));
	mail_record_free(rec);
}

static void test_cr_only_and_warnings(void **state)
{
	struct mail_record *cr = parse("Message-ID: <cr@x>\rSubject: cr only\rFrom: a@b.c\r\rline1\rline2\r");
	size_t n = 64 + 500 * 24;
	char *msg = malloc(n), *p = msg;
	struct mail_record *w;

	(void)state;
	assert_string_equal(cr->subject, "cr only");
	assert_int_equal(cr->from.n, 1);
	assert_string_equal(cr->body, "line1\nline2");
	mail_record_free(cr);
	/* GMime's warnings are kept, capped */
	p += sprintf(p, "Subject: w\nContent-Type: multipart/mixed\n");
	for (int i = 0; i < 500; i++)
		p += sprintf(p, "Subject: again %d\n", i);
	sprintf(p, "\nx\n");
	w = parse(msg);
	assert_true(w->n_warnings > 0);
	assert_true(w->n_warnings <= MAIL_MAX_WARNINGS);
	assert_true(has_warning(w, "multipart without boundary") || has_warning(w, "Subject"));
	mail_record_free(w);
	free(msg);
}

/* ---- subjects and encoded words ---- */

struct ew_case {
	const char *header;
	const char *expected;
};

static void test_encoded_words(void **state)
{
	static const struct ew_case cases[] = {
		{ "=?utf-8?B?R3LDvMOfZSDwn5iA?=", "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80" },
		{ "=?ISO-8859-1?Q?caf=E9_cr=E8me?=", "caf\xc3\xa9 cr\xc3\xa8me" },
		{ "=?koi8-r?B?8NLJ18XUIM3J0g==?=", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
		  "\xd0\xbc\xd0\xb8\xd1\x80" },
		{ "=?iso-2022-jp?B?GyRCJDMkcyRLJEEkTxsoQg==?=",
		  "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf" },
		{ "=?shift_jis?B?k/qWe4zq?=", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
		{ "=?gb2312?B?xOO6ww==?=", "\xe4\xbd\xa0\xe5\xa5\xbd" },
		{ "=?windows-1252?Q?=93Smart=94_quotes?=", "\xe2\x80\x9cSmart\xe2\x80\x9d quotes" },
		{ "Re: =?utf-8?q?a?= =?utf-8?q?b?= c", "Re: ab c" },
	};
	char msg[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mail_record *rec;

		snprintf(msg, sizeof(msg), "Subject: %s\nMessage-ID: <e@x>\n\nx\n", cases[i].header);
		rec = parse(msg);
		assert_string_equal(rec->subject, cases[i].expected);
		mail_record_free(rec);
	}
}

static void test_raw_8bit_headers(void **state)
{
	struct mail_record *rec;

	(void)state;
	/* the message's declared charset is used for raw header bytes */
	rec = parse("Subject: \xf0\xd2\xc9\xd7\xc5\xd4\nFrom: \xf0\xd2\xc9\xd7\xc5\xd4 <a@b.ru>\n"
		    "Content-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4\n");
	assert_string_equal(rec->subject, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	assert_int_equal(rec->from.n, 1);
	assert_string_equal(rec->from.v[0].name, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	assert_string_equal(rec->body, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	mail_record_free(rec);
	/* no charset: valid UTF-8 stays UTF-8 */
	rec = parse("Subject: caf\xc3\xa9\n\nx\n");
	assert_string_equal(rec->subject, "caf\xc3\xa9");
	mail_record_free(rec);
	/* no charset, not UTF-8: windows-1252 */
	rec = parse("Subject: \x93Smart\x94 \x96 \x80 caf\xe9\n\nx\n");
	assert_string_equal(rec->subject, "\xe2\x80\x9cSmart\xe2\x80\x9d \xe2\x80\x93 \xe2\x82\xac caf\xc3\xa9");
	mail_record_free(rec);
	/* latin-1 declared in a multipart's first text part */
	rec = parse("Subject: caf\xe9\nContent-Type: multipart/mixed; boundary=b\n\n"
		    "--b\nContent-Type: text/plain; charset=iso-8859-1\n\ncaf\xe9\n--b--\n");
	assert_string_equal(rec->subject, "caf\xc3\xa9");
	assert_string_equal(rec->body, "caf\xc3\xa9");
	mail_record_free(rec);
}

static void test_subject_missing(void **state)
{
	struct mail_record *rec = parse("From: a@b.c\n\nx\n");

	(void)state;
	assert_string_equal(rec->subject, "");
	mail_record_free(rec);
}

/* ---- addresses ---- */

static void test_addresses(void **state)
{
	struct mail_record *rec = parse(
		"From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <Joerg.Mueller@Example.COM>\n"
		"Sender: \"Secretary\" <sec@EXAMPLE.com>\n"
		"Reply-To: replies@example.com\n"
		"To: Team: ann@x.org, \"Bob B\" <bob@X.ORG>;, ann@X.org,\n"
		" \"Ann Again\" <ANN@x.org>, undisclosed-recipients:;\n"
		"Cc: =?iso-8859-1?q?Fran=E7ois?= <f@y.fr>, broken-entry, c@z.de\n"
		"Bcc: hidden@example.net\n"
		"Subject: addrs\n\nx\n");

	(void)state;
	assert_int_equal(rec->from.n, 1);
	assert_string_equal(rec->from.v[0].name, "J\xc3\xb6rg M\xc3\xbcller");
	assert_string_equal(rec->from.v[0].addr, "joerg.mueller@example.com");  /* one mailbox, one case */
	assert_string_equal(rec->from.v[0].domain, "example.com");
	assert_int_equal(rec->sender.n, 1);
	assert_string_equal(rec->sender.v[0].addr, "sec@example.com");
	assert_string_equal(rec->sender.v[0].name, "Secretary");
	assert_int_equal(rec->reply_to.n, 1);
	assert_null(rec->reply_to.v[0].name);
	/* group flattened, duplicates removed (case-insensitively) */
	assert_int_equal(rec->to.n, 2);
	assert_string_equal(rec->to.v[0].addr, "ann@x.org");
	assert_string_equal(rec->to.v[1].addr, "bob@x.org");
	assert_string_equal(rec->to.v[1].name, "Bob B");
	/* entries without an address dropped with a warning */
	assert_int_equal(rec->cc.n, 2);
	assert_string_equal(rec->cc.v[0].name, "Fran\xc3\xa7ois");
	assert_string_equal(rec->cc.v[1].addr, "c@z.de");
	assert_true(has_warning(rec, "Cc"));
	assert_int_equal(rec->bcc.n, 1);
	assert_string_equal(rec->bcc.v[0].addr, "hidden@example.net");
	mail_record_free(rec);
}

static void test_rfc2231_name_in_address(void **state)
{
	struct mail_record *rec = parse("From: \"=?utf-8?B?5L2g5aW9?=\" <ni@hao.cn>\n\nx\n");

	(void)state;
	assert_int_equal(rec->from.n, 1);
	assert_string_equal(rec->from.v[0].name, "\xe4\xbd\xa0\xe5\xa5\xbd");
	mail_record_free(rec);
}

static void test_address_cap(void **state)
{
	size_t cap = 64 + (MAIL_MAX_ADDRS + 10) * 20;
	char *msg = malloc(cap), *p = msg;
	struct mail_record *rec;

	(void)state;
	p += sprintf(p, "To: ");
	for (int i = 0; i < MAIL_MAX_ADDRS + 10; i++)
		p += sprintf(p, "%su%d@x.org", i ? ", " : "", i);
	sprintf(p, "\n\nx\n");
	rec = parse(msg);
	assert_int_equal(rec->to.n, MAIL_MAX_ADDRS);
	assert_true(has_warning(rec, "addresses"));
	mail_record_free(rec);
	free(msg);
}

static void test_addr_normalise(void **state)
{
	char *s;

	(void)state;
	s = mail_addr_normalise("  <John.Doe@Mail.EXAMPLE.com>  ");
	assert_string_equal(s, "john.doe@mail.example.com");
	free(s);
	s = mail_addr_normalise("Name <x@Y.Z>");
	assert_string_equal(s, "x@y.z");
	free(s);
	s = mail_addr_normalise("mailto:a@B.c");
	assert_string_equal(s, "a@b.c");
	free(s);
	assert_null(mail_addr_normalise("no-at-sign"));
	assert_null(mail_addr_normalise("@example.com"));
	assert_null(mail_addr_normalise("user@"));
	assert_null(mail_addr_normalise("two words@x.com"));
	assert_null(mail_addr_normalise(""));
	assert_null(mail_addr_normalise(NULL));
}

static void test_addr_is_automated(void **state)
{
	(void)state;
	assert_true(mail_addr_is_automated("no-reply@example.com"));
	assert_true(mail_addr_is_automated("NoReply@example.com"));
	assert_true(mail_addr_is_automated("do_not_reply@example.com"));
	assert_true(mail_addr_is_automated("donotreply@example.com"));
	assert_true(mail_addr_is_automated("MAILER-DAEMON@mx.example.com"));
	assert_true(mail_addr_is_automated("postmaster@example.com"));
	assert_true(mail_addr_is_automated("bounces+12345-abc@mail.example.com"));
	assert_true(mail_addr_is_automated("notifications@github.com"));
	assert_true(mail_addr_is_automated("devel-request@lists.example.org"));
	assert_true(mail_addr_is_automated("devel-bounces@lists.example.org"));
	assert_true(mail_addr_is_automated("owner-devel@lists.example.org"));
	assert_false(mail_addr_is_automated("john@example.com"));
	assert_false(mail_addr_is_automated("info@example.com"));
	assert_false(mail_addr_is_automated("noreen@example.com"));
	assert_false(mail_addr_is_automated(NULL));
}

static void test_registrable_domain(void **state)
{
	static const char *const cases[][2] = {
		{ "mail.acme.com", "acme.com" },
		{ "a.b.example.co.uk", "example.co.uk" },
		{ "MAIL.Acme.COM", "acme.com" },
		{ "acme.com", "acme.com" },
		{ "co.uk", "co.uk" },
		{ "localhost", "localhost" },
		{ "x.y.github.io", "y.github.io" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = mail_registrable_domain(cases[i][0]);

		assert_non_null(d);
		assert_string_equal(d, cases[i][1]);
		free(d);
	}
	assert_null(mail_registrable_domain(NULL));
}

static void test_freemail(void **state)
{
	char path[] = "/tmp/test_mail_freemail_XXXXXX";
	char err[256];
	int fd = mkstemp(path);
	FILE *fp;

	(void)state;
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs("# free mail\ngmail.com\n  GMX.de  # comment\n\nyahoo.co.uk\n", fp);
	fclose(fp);
	assert_int_equal(mail_freemail_load(path, err, sizeof(err)), 0);
	assert_true(mail_is_freemail("gmail.com"));
	assert_true(mail_is_freemail("GMail.COM"));
	assert_true(mail_is_freemail("gmx.de"));
	assert_true(mail_is_freemail("yahoo.co.uk"));
	assert_false(mail_is_freemail("acme.com"));
	assert_false(mail_is_freemail("comment"));
	assert_false(mail_is_freemail(""));
	unlink(path);
	assert_int_equal(mail_freemail_load(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	/* the old list stays after a failed load */
	assert_true(mail_is_freemail("gmail.com"));
}

/* ---- subjects ---- */

static void test_subject_normalise(void **state)
{
	static const char *const cases[][2] = {
		{ "Re: Hello World", "hello world" },
		{ "RE: Fwd: AW: SV: VS: Antw: WG: Quarterly  plan", "quarterly plan" },
		{ "RE[2]: Re(3): re^4: offer", "offer" },
		{ "[sales-list] Re: [Ticket] Budget", "budget" },
		{ "Fw: TR: Re : Rapport", "rapport" },
		{ "  Re:Re:Re:   spaced\t out  ", "spaced out" },
		{ "Re: \xc3\x9c" "BER Gr\xc3\xb6\xc3\x9f" "e", "\xc3\xbc" "ber gr\xc3\xb6\xc3\x9f" "e" },
		{ "Reply needed", "reply needed" },
		{ "Regarding: x", "regarding: x" },
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = mail_subject_normalise(cases[i][0]);

		assert_non_null(s);
		assert_string_equal(s, cases[i][1]);
		free(s);
	}
}

static void test_subject_generic(void **state)
{
	(void)state;
	assert_true(mail_subject_is_generic(""));
	assert_true(mail_subject_is_generic("hello"));
	assert_true(mail_subject_is_generic("question?"));
	assert_true(mail_subject_is_generic("meeting"));
	assert_true(mail_subject_is_generic("invoice"));
	assert_true(mail_subject_is_generic("hi"));
	assert_true(mail_subject_is_generic("!!!"));
	assert_false(mail_subject_is_generic("invoice 2024-117 for acme"));
	assert_false(mail_subject_is_generic("renewal of the support contract"));
	/* every placeholder is generic */
	assert_true(mail_subject_is_generic("subject unavailable"));
}

/* placeholders: no subject, a hidden one, a prefix alone, auto-replies, bounces */
static void test_subject_placeholder(void **state)
{
	static const char *const yes[] = {
		"", "Subject Unavailable", "(no subject)", "Re:", "Fwd:", "RE: Fwd:", "Out of Office",
		"Automatic reply: Renewal of the support contract", "Undeliverable: Offer 2024-17",
		"Delivery Status Notification (Failure)", "Read: Quarterly plan", "...", "\xe2\x80\xa6",
		"Re: [usrp-users] Re:", "AW: Abwesenheitsnotiz: Angebot",
	};
	static const char *const no[] = {
		"Renewal of the support contract", "Reading list for the offsite",
		"Out of office network for the Berlin site", "Re: Undeliverable pallets in Hamburg",
	};
	char *n;

	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		n = mail_subject_normalise(yes[i]);
		if (!mail_subject_is_placeholder(n))
			fail_msg("\"%s\" is a placeholder", yes[i]);
		free(n);
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		n = mail_subject_normalise(no[i]);
		if (mail_subject_is_placeholder(n))
			fail_msg("\"%s\" is not a placeholder", no[i]);
		free(n);
	}
	assert_true(mail_subject_is_placeholder(NULL));
}

static void test_thread_index_key(void **state)
{
	char *k;

	(void)state;
	k = mail_thread_index_key("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRob");
	assert_non_null(k);
	assert_string_equal(k, "0102030405060708090a0b0c0d0e0f10111213141516");
	free(k);
	/* folded white space is ignored; replies share the key */
	k = mail_thread_index_key(" AQIDBAUGBwgJCgsMDQ4P\r\n EBESExQVFg==");
	assert_non_null(k);
	assert_string_equal(k, "0102030405060708090a0b0c0d0e0f10111213141516");
	free(k);
	assert_null(mail_thread_index_key("AQIDBAUGBwgJCgsMDQ4P"));  /* 15 bytes */
	assert_null(mail_thread_index_key("not base64 at all!!"));
	assert_null(mail_thread_index_key(NULL));
}

/* ---- bodies ---- */

static void test_alternative_prefers_plain(void **state)
{
	struct mail_record *rec = parse(
		"Subject: alt\nMIME-Version: 1.0\n"
		"Content-Type: multipart/alternative; boundary=\"XX\"\n\n"
		"--XX\nContent-Type: text/html; charset=utf-8\n\n<p>HTML version</p>\n"
		"--XX\nContent-Type: text/plain; charset=utf-8\n\nPlain version\n"
		"--XX--\n");

	(void)state;
	assert_string_equal(rec->body, "Plain version");
	assert_int_equal(rec->body_len, strlen("Plain version"));
	assert_false(rec->flags & MAIL_HTML_BODY);
	assert_int_equal(rec->n_attachments, 0);
	mail_record_free(rec);
}

static void test_html_only(void **state)
{
	struct mail_record *rec = parse(
		"Subject: html\nContent-Type: text/html; charset=iso-8859-1\n"
		"Content-Transfer-Encoding: quoted-printable\n\n"
		"<html><head><title>T</title><style>p {color:red}</style></head><body>\n"
		"<script>alert('x')</script><p>Hello   <b>there</b>,</p><p>caf=E9 &amp; more</p>\n"
		"<ul><li>one</li><li>two</li></ul>\n"
		"<div>On Mon, 1 Jan 2024, Ann wrote:</div>\n"
		"<blockquote><p>earlier text</p><p>second para</p></blockquote>\n"
		"</body></html>\n");
	char *q;

	(void)state;
	assert_true(rec->flags & MAIL_HTML_BODY);
	assert_null(strstr(rec->body, "alert"));
	assert_null(strstr(rec->body, "color"));
	assert_null(strstr(rec->body, "T\n"));
	assert_non_null(strstr(rec->body, "Hello there,"));
	assert_non_null(strstr(rec->body, "caf\xc3\xa9 & more"));
	assert_non_null(strstr(rec->body, "- one\n- two"));
	assert_non_null(strstr(rec->body, "> earlier text"));
	assert_non_null(strstr(rec->body, "> second para"));
	assert_int_equal(rec->n_quotes, 1);
	q = span_text(rec, 0);
	assert_non_null(strstr(q, "wrote:"));
	assert_non_null(strstr(q, "second para"));
	free(q);
	assert_string_equal(rec->snippet, "Hello there, caf\xc3\xa9 & more - one - two");
	mail_record_free(rec);
}

static void test_charset_and_invalid_utf8(void **state)
{
	struct mail_record *rec;

	(void)state;
	rec = parse("Content-Type: text/plain; charset=utf-8\n\nok \xff\xfe bad\n");
	assert_non_null(strstr(rec->body, "ok "));
	assert_non_null(strstr(rec->body, " bad"));
	assert_null(strchr(rec->body, '\xff'));
	mail_record_free(rec);
	rec = parse("Content-Type: text/plain; charset=x-unknown-thing\n\ncaf\xe9\n");
	assert_string_equal(rec->body, "caf\xc3\xa9");
	mail_record_free(rec);
	/* 7-bit ISO-2022-JP is converted; UTF-8 mislabelled as it is kept */
	rec = parse("Content-Type: text/plain; charset=ISO-2022-JP\n\n\x1b$B$3$s$K$A$O\x1b(B\n");
	assert_string_equal(rec->body, "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf");
	mail_record_free(rec);
	rec = parse("Content-Type: text/plain; charset=ISO-2022-JP\n\n\xe3\x81\x93\xe3\x82\x93\n");
	assert_string_equal(rec->body, "\xe3\x81\x93\xe3\x82\x93");
	mail_record_free(rec);
}

static void test_body_cap(void **state)
{
	size_t n = MAIL_MAX_BODY_TEXT + 1000;
	char *msg = malloc(n + 64);
	struct mail_record *rec;
	int len = sprintf(msg, "Subject: big\n\n");

	(void)state;
	memset(msg + len, 'a', n);
	msg[len + n] = '\0';
	rec = parse(msg);
	assert_int_equal(rec->body_len, MAIL_MAX_BODY_TEXT);
	assert_int_equal(strlen(rec->body), MAIL_MAX_BODY_TEXT);
	assert_true(has_warning(rec, "body text cut"));
	assert_int_equal(strlen(rec->snippet), MAIL_SNIPPET_CHARS);
	mail_record_free(rec);
	free(msg);
}

static void test_attachments(void **state)
{
	struct mail_record *rec = parse(
		"Subject: files\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
		"--b1\nContent-Type: text/plain\n\nSee attached.\n"
		"--b1\nContent-Type: text/plain; name=\"note.txt\"\n"
		"Content-Disposition: attachment; filename=\"note.txt\"\n"
		"Content-Transfer-Encoding: base64\n\naGVsbG8gYXR0YWNobWVudAo=\n"
		"--b1\nContent-Type: APPLICATION/PDF\n"
		"Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf\n"
		"Content-Transfer-Encoding: base64\n\n"
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\n"
		"OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx\n"
		"cnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmq\n"
		"q6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj\n"
		"5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhsc\n"
		"HR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RV\n"
		"VldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4SFhoeIiYqLjI2O\n"
		"j5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+v8DBwsPExcbH\n"
		"yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8A\n"
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5\n"
		"Ojs8PT4/QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFy\n"
		"c3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKTlJWWl5iZmpucnZ6foKGio6Slpqeoqaqr\n"
		"rK2ur7CxsrO0tba3uLm6u7y9vr/AwcLDxMXGx8jJysvMzc7P0NHS09TV1tfY2drb3N3e3+Dh4uPk\n"
		"5ebn6Onq6+zt7u/w8fLz9PX29/j5+vv8/f7/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\n"
		"Hh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVW\n"
		"V1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6P\n"
		"kJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfI\n"
		"ycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==\n"
		"--b1\nContent-Type: image/png; name=\"=?utf-8?B?w5xuw69jb2RlLnR4dA==?=\"\n"
		"Content-Transfer-Encoding: base64\n\naGVsbG8gYXR0YWNobWVudAo=\n"
		"--b1\nContent-Type: application/octet-stream\n"
		"Content-Disposition: attachment;\n filename*0*=iso-8859-1''caf%E9-;\n filename*1=\"part.bin\"\n\n"
		"--b1--\n");

	(void)state;
	assert_string_equal(rec->body, "See attached.");
	assert_int_equal(rec->n_attachments, 4);
	assert_string_equal(rec->attachments[0].filename, "note.txt");
	assert_string_equal(rec->attachments[0].content_type, "text/plain");
	assert_int_equal(rec->attachments[0].size, 17);
	assert_string_equal(rec->attachments[0].sha256,
			    "2852d7262f1fd6339a426560101d5840edf5b8999b90eb6b2eea86c8b9f7e298");
	assert_string_equal(rec->attachments[1].filename, "\xe2\x82\xac rates.pdf");
	assert_string_equal(rec->attachments[1].content_type, "application/pdf");
	assert_int_equal(rec->attachments[1].size, 1024);
	assert_string_equal(rec->attachments[1].sha256,
			    "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9");
	assert_string_equal(rec->attachments[2].filename, "\xc3\x9cn\xc3\xaf" "code.txt");
	assert_string_equal(rec->attachments[2].content_type, "image/png");
	assert_string_equal(rec->attachments[3].filename, "caf\xc3\xa9-part.bin");
	assert_int_equal(rec->attachments[3].size, 0);
	assert_string_equal(rec->attachments[3].sha256,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	mail_record_free(rec);
}

/* ---- TNEF (winmail.dat) ---- */

/* tnef_att - append one TNEF attribute (level, id, length, data, checksum) to G */
static void tnef_att(GByteArray *g, uint8_t level, uint32_t id, const void *data, uint32_t len)
{
	uint8_t head[9] = { level, id, id >> 8, id >> 16, id >> 24, len, len >> 8, len >> 16, len >> 24 };
	unsigned sum = 0;
	uint8_t ck[2];

	for (uint32_t i = 0; i < len; i++)
		sum += ((const uint8_t *)data)[i];
	ck[0] = sum & 0xff;
	ck[1] = (sum >> 8) & 0xff;
	g_byte_array_append(g, head, 9);
	g_byte_array_append(g, data, len);
	g_byte_array_append(g, ck, 2);
}

/* tnef_new - a TNEF stream holding only its signature and key */
static GByteArray *tnef_new(void)
{
	static const uint8_t sig[6] = { 0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00 };
	GByteArray *g = g_byte_array_new();

	return g_byte_array_append(g, sig, 6);
}

/* tnef_message - a message whose only part is TNEF stream G as winmail.dat (free()); frees G */
static char *tnef_message(GByteArray *g)
{
	char *b64 = g_base64_encode(g->data, g->len), *msg = NULL;

	assert_true(asprintf(&msg, "Subject: tnef\nMIME-Version: 1.0\n"
			     "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
			     "--b\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\n"
			     "Content-Transfer-Encoding: base64\n\n%s\n--b--\n", b64) > 0);
	g_free(b64);
	g_byte_array_free(g, TRUE);
	return msg;
}

static void test_tnef_files_and_cap(void **state)
{
	static const uint8_t rend[14] = { 1 };
	static const uint8_t html[] = {  /* MAPI block: one PT_BINARY PR_BODY_HTML */
		1, 0, 0, 0, 0x02, 0x01, 0x13, 0x10, 1, 0, 0, 0, 24, 0, 0, 0,
		'<', 'p', '>', 'H', 'i', ' ', '<', 'b', '>', 'B', 'o', 'b', '<', '/', 'b', '>',
		'<', '/', 'p', '>', 0, 0, 0, 0 };
	GByteArray *g = tnef_new();
	struct mail_record *rec;
	char *msg;

	(void)state;
	tnef_att(g, 1, 0x00069003, html, sizeof(html));  /* attMAPIProps */
	for (int i = 0; i < MAIL_MAX_ATTACHMENTS + 200; i++) {
		char name[24];

		snprintf(name, sizeof(name), "f%04d.txt", i);
		tnef_att(g, 2, 0x00069002, rend, sizeof(rend));        /* attAttachRenddata */
		tnef_att(g, 2, 0x00018010, name, strlen(name) + 1);    /* attAttachTitle */
		tnef_att(g, 2, 0x0006800F, "abc", 3);                  /* attAttachData */
	}
	msg = tnef_message(g);
	rec = parse(msg);
	assert_int_equal(rec->n_attachments, MAIL_MAX_ATTACHMENTS);
	assert_string_equal(rec->attachments[0].filename, "f0000.txt");
	assert_string_equal(rec->attachments[0].content_type, "text/plain");
	assert_int_equal(rec->attachments[0].size, 3);
	assert_string_equal(rec->attachments[0].sha256,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(rec->attachments[MAIL_MAX_ATTACHMENTS - 1].filename, "f0999.txt");
	assert_true(has_warning(rec, "more than 1000 attachments"));
	assert_string_equal(rec->body, "Hi Bob");
	assert_true(rec->flags & MAIL_HTML_BODY);
	mail_record_free(rec);
	free(msg);
}

static void test_tnef_hostile(void **state)
{
	static const uint8_t mv[] = {  /* MAPI block: PR_BODY as 100000 PT_STRING8 values */
		1, 0, 0, 0, 0x1e, 0x10, 0x00, 0x10, 0xa0, 0x86, 0x01, 0x00 };
	static const uint8_t huge[9] = { 1, 0x0c, 0x80, 0x02, 0x00, 0xf0, 0xff, 0xff, 0xff };
	struct {
		GByteArray *g;
		const char *why;
	} cases[3];
	struct mail_record *rec;

	(void)state;
	cases[0].g = tnef_new();
	g_byte_array_append(cases[0].g, huge, sizeof(huge));  /* attBody of 4 GB, 3 bytes there */
	g_byte_array_append(cases[0].g, (const uint8_t *)"abc", 3);
	cases[0].why = "truncated";
	cases[1].g = tnef_new();
	tnef_att(cases[1].g, 1, 0x00069003, mv, sizeof(mv));
	cases[1].why = "bad MAPI value count";
	cases[2].g = tnef_new();
	tnef_att(cases[2].g, 1, 0x0002800C, "one", 3);
	tnef_att(cases[2].g, 1, 0x0002800C, "two", 3);  /* libytnef leaks the first */
	cases[2].why = "attribute repeated";
	for (size_t i = 0; i < 3; i++) {
		char *msg = tnef_message(cases[i].g);

		rec = parse(msg);
		assert_int_equal(rec->n_attachments, 1);
		assert_string_equal(rec->attachments[0].filename, "winmail.dat");
		assert_string_equal(rec->attachments[0].content_type, "application/ms-tnef");
		assert_true(has_warning(rec, "TNEF part (winmail.dat) not decoded"));
		assert_true(has_warning(rec, cases[i].why));
		assert_string_equal(rec->body, "");
		mail_record_free(rec);
		free(msg);
	}
}

static void test_forwarded_rfc822(void **state)
{
	struct mail_record *rec = parse(
		"From: Outer <outer@example.com>\nSubject: Fwd: inner\nMessage-ID: <outer@x>\n"
		"Content-Type: multipart/mixed; boundary=\"o\"\n\n"
		"--o\nContent-Type: text/plain\n\nHave a look below.\n"
		"--o\nContent-Type: message/rfc822\n\n"
		"From: Inner <inner@example.org>\nTo: someone@example.org\nSubject: inner subject\n"
		"Message-ID: <inner@x>\nList-Id: <inner.list>\nAuto-Submitted: auto-replied\n"
		"Content-Type: multipart/mixed; boundary=\"i\"\n\n"
		"--i\nContent-Type: text/plain\n\nInner body text.\n"
		"--i\nContent-Type: application/zip\nContent-Disposition: attachment; filename=inner.zip\n"
		"Content-Transfer-Encoding: base64\n\naGVsbG8gYXR0YWNobWVudAo=\n"
		"--i--\n"
		"--o--\n");

	(void)state;
	assert_string_equal(rec->message_id, "outer@x");
	assert_string_equal(rec->subject, "Fwd: inner");
	assert_int_equal(rec->from.n, 1);
	assert_string_equal(rec->from.v[0].addr, "outer@example.com");
	assert_int_equal(rec->to.n, 0);
	assert_string_equal(rec->body, "Have a look below.");
	assert_null(rec->hdr.list_id);
	assert_null(rec->hdr.auto_submitted);
	assert_int_equal(rec->flags & (MAIL_BULK | MAIL_AUTOREPLY | MAIL_BOUNCE), 0);
	assert_int_equal(rec->n_attachments, 2);
	assert_string_equal(rec->attachments[0].content_type, "message/rfc822");
	assert_true(rec->attachments[0].size > 100);
	assert_string_equal(rec->attachments[1].filename, "inner.zip");
	assert_string_equal(rec->attachments[1].sha256,
			    "2852d7262f1fd6339a426560101d5840edf5b8999b90eb6b2eea86c8b9f7e298");
	mail_record_free(rec);
}

/* ---- decision headers ---- */

static void test_decision_headers(void **state)
{
	struct mail_record *rec = parse(
		"Return-Path: <>\n"
		"Authentication-Results: mx.example.com;\n spf=pass smtp.mailfrom=a@b.c\n"
		"Authentication-Results: mx2.example.com; dkim=fail\n"
		"List-Id: Sales team\n <sales.example.com>\n"
		"List-Unsubscribe: <mailto:leave@example.com>\n"
		"Precedence: bulk\n"
		"Sensitivity: Private\n"
		"Thread-Index: AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRob\n"
		"X-Auto-Response-Suppress: All\n"
		"Subject: hdrs\n\nx\n");
	struct mail_record *rec2 = parse("Return-Path: <Someone@Example.COM>\n\nx\n");

	(void)state;
	assert_string_equal(rec->hdr.return_path, "");
	assert_int_equal(rec->hdr.n_auth_results, 2);
	assert_string_equal(rec->hdr.auth_results[0], "mx.example.com; spf=pass smtp.mailfrom=a@b.c");
	assert_string_equal(rec->hdr.auth_results[1], "mx2.example.com; dkim=fail");
	assert_string_equal(rec->hdr.list_id, "Sales team <sales.example.com>");
	assert_string_equal(rec->hdr.list_unsubscribe, "<mailto:leave@example.com>");
	assert_string_equal(rec->hdr.precedence, "bulk");
	assert_string_equal(rec->hdr.sensitivity, "Private");
	assert_string_equal(rec->hdr.thread_index, "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRob");
	assert_string_equal(rec->hdr.x_auto_response_suppress, "All");
	assert_null(rec->hdr.auto_submitted);
	assert_string_equal(rec2->hdr.return_path, "someone@example.com");
	assert_null(rec2->hdr.list_id);
	assert_int_equal(rec2->hdr.n_auth_results, 0);
	mail_record_free(rec);
	mail_record_free(rec2);
}

/* ---- flags ---- */

/* flags_of - the MAIL_BOUNCE|MAIL_AUTOREPLY|MAIL_BULK flags of a message */
static unsigned flags_of(const char *msg)
{
	struct mail_record *rec = parse(msg);
	unsigned f = rec->flags & (MAIL_BOUNCE | MAIL_AUTOREPLY | MAIL_BULK);

	mail_record_free(rec);
	return f;
}

static void test_flags_bounce(void **state)
{
	(void)state;
	assert_int_equal(flags_of(
		"From: MAILER-DAEMON@mx.example.com\nSubject: Undelivered Mail Returned to Sender\n"
		"Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n"
		"--r\nContent-Type: text/plain\n\nfailed\n"
		"--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
		"Final-Recipient: rfc822; x@y\nAction: failed\nStatus: 5.1.1\n"
		"--r--\n"), MAIL_BOUNCE);
	/* an ARF report */
	assert_int_equal(flags_of(
		"From: abuse@isp.example\nSubject: report\n"
		"Content-Type: multipart/mixed; boundary=r\n\n"
		"--r\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
		"--r--\n"), MAIL_BOUNCE);
	assert_int_equal(flags_of("From: a@b.c\nX-Failed-Recipients: x@y.z\nSubject: x\n\nx\n"),
			 MAIL_BOUNCE);
	/* non-standard bounces: a daemon or the null sender with a bounce subject */
	assert_int_equal(flags_of("Return-Path: <>\nFrom: System <admin@mx.example>\n"
				  "Subject: Unzustellbar: Angebot\n\nx\n"), MAIL_BOUNCE);
	assert_int_equal(flags_of("From: postmaster@example.fr\nSubject: Non remis : offre\n\nx\n"),
			 MAIL_BOUNCE);
	assert_int_equal(flags_of("From: Mail Delivery System <MAILER-DAEMON@x.example>\n"
				  "Subject: Mail delivery failed: returning message to sender\n\nx\n"),
			 MAIL_BOUNCE);
	/* a person writing about a failure is not a bounce */
	assert_int_equal(flags_of("From: ann@example.com\nSubject: Delivery failed for our order?\n\n"
				  "Hi, what happened?\n"), 0);
}

static void test_flags_autoreply(void **state)
{
	(void)state;
	assert_int_equal(flags_of("From: a@b.c\nAuto-Submitted: auto-replied\nSubject: x\n\nx\n"),
			 MAIL_AUTOREPLY);
	assert_int_equal(flags_of("From: a@b.c\nAuto-Submitted: no\nSubject: x\n\nx\n"), 0);
	assert_int_equal(flags_of("From: a@b.c\nX-Autoreply: yes\nSubject: x\n\nx\n"), MAIL_AUTOREPLY);
	assert_int_equal(flags_of("From: a@b.c\nX-Autorespond: x\nSubject: x\n\nx\n"), MAIL_AUTOREPLY);
	assert_int_equal(flags_of("From: a@b.c\nPrecedence: auto_reply\nSubject: x\n\nx\n"),
			 MAIL_AUTOREPLY);
	assert_int_equal(flags_of("From: a@b.c\nSubject: Out of Office: offer\n\nx\n"), MAIL_AUTOREPLY);
	assert_int_equal(flags_of("From: a@b.c\nSubject: Automatic reply: offer\n\nx\n"),
			 MAIL_AUTOREPLY);
	assert_int_equal(flags_of("From: a@b.c\nSubject: Abwesenheitsnotiz: Angebot\n\nx\n"),
			 MAIL_AUTOREPLY);
	assert_int_equal(flags_of("From: a@b.c\nSubject: =?utf-8?q?R=C3=A9ponse_automatique?= : x\n\nx\n"),
			 MAIL_AUTOREPLY);
	assert_int_equal(flags_of("From: a@b.c\nSubject: =?utf-8?q?Respuesta_autom=C3=A1tica?=\n\nx\n"),
			 MAIL_AUTOREPLY);
	assert_int_equal(flags_of("From: a@b.c\nSubject: Auto: offer\n\nx\n"), MAIL_AUTOREPLY);
	assert_int_equal(flags_of("From: a@b.c\nSubject: Re: our office move\n\nx\n"), 0);
}

static void test_flags_bulk(void **state)
{
	(void)state;
	assert_int_equal(flags_of("From: a@b.c\nList-Id: <x.list>\nSubject: x\n\nx\n"), MAIL_BULK);
	assert_int_equal(flags_of("From: a@b.c\nList-Unsubscribe: <https://u>\nSubject: x\n\nx\n"),
			 MAIL_BULK);
	assert_int_equal(flags_of("From: a@b.c\nPrecedence: bulk\nSubject: x\n\nx\n"), MAIL_BULK);
	assert_int_equal(flags_of("From: a@b.c\nPrecedence: list\nSubject: x\n\nx\n"), MAIL_BULK);
	assert_int_equal(flags_of("From: a@b.c\nPrecedence: junk\nSubject: x\n\nx\n"), MAIL_BULK);
	assert_int_equal(flags_of("From: a@b.c\nPrecedence: first-class\nSubject: x\n\nx\n"), 0);
}

static void test_flags_html(void **state)
{
	struct mail_record *rec = parse("Content-Type: text/html\n\n<p>x</p>\n");

	(void)state;
	assert_true(rec->flags & MAIL_HTML_BODY);
	assert_false(rec->flags & MAIL_TRUNCATED);
	mail_record_free(rec);
}

/* ---- quotes and snippet ---- */

static void test_quotes_gt_and_attribution(void **state)
{
	struct mail_record *rec = parse(
		"Subject: Re: x\n\n"
		"Sounds good to me.\n"
		"\n"
		"On Mon, Jan 1, 2024 at 10:00 AM Ann Example <\n"
		"ann@example.com> wrote:\n"
		"> Shall we meet?\n"
		">\n"
		"> > Earlier\n"
		"\n"
		"Also, see inline:\n"
		"> point two\n"
		"my answer\n");
	char *q;

	(void)state;
	assert_int_equal(rec->n_quotes, 2);
	q = span_text(rec, 0);
	assert_string_equal(q, "On Mon, Jan 1, 2024 at 10:00 AM Ann Example <\nann@example.com> wrote:\n"
			    "> Shall we meet?\n>\n> > Earlier\n");
	free(q);
	q = span_text(rec, 1);
	assert_string_equal(q, "> point two\n");
	free(q);
	assert_string_equal(rec->snippet, "Sounds good to me. Also, see inline: my answer");
	mail_record_free(rec);
}

static void test_quotes_languages(void **state)
{
	static const char *const attributions[] = {
		"Am 01.01.2024 um 10:00 schrieb Ann Example <ann@example.com>:",
		"Le 1 janv. 2024 \xc3\xa0 10:00, Ann <ann@example.com> a \xc3\xa9" "crit :",
	};
	char msg[512];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct mail_record *rec;
		char *q;

		snprintf(msg, sizeof(msg), "Subject: x\n\nDanke!\n\n%s\n> Alt\n> Text\n", attributions[i]);
		rec = parse(msg);
		assert_int_equal(rec->n_quotes, 1);
		q = span_text(rec, 0);
		assert_non_null(strstr(q, attributions[i]));
		assert_non_null(strstr(q, "> Text"));
		free(q);
		assert_string_equal(rec->snippet, "Danke!");
		mail_record_free(rec);
	}
}

static void test_quotes_outlook(void **state)
{
	struct mail_record *a = parse(
		"Subject: RE: x\n\nThanks, done.\n\n-----Original Message-----\n"
		"From: Ann\nSent: Monday\nTo: Bob\nSubject: x\n\nPlease do it.\n");
	struct mail_record *b = parse(
		"Subject: RE: x\n\nOK.\n\n________________________________\n"
		"From: Ann <ann@example.com>\nSent: Monday\n\nOld text.\n");
	struct mail_record *c = parse(
		"Subject: x\n\nA line of ________________________________\nnot a separator\n");
	char *q;

	(void)state;
	assert_int_equal(a->n_quotes, 1);
	q = span_text(a, 0);
	assert_true(strncmp(q, "-----Original Message-----", 26) == 0);
	assert_int_equal(a->quotes[0].start + a->quotes[0].len, a->body_len);
	free(q);
	assert_string_equal(a->snippet, "Thanks, done.");
	assert_int_equal(b->n_quotes, 1);
	assert_int_equal(b->quotes[0].start + b->quotes[0].len, b->body_len);
	assert_string_equal(b->snippet, "OK.");
	assert_int_equal(c->n_quotes, 0);
	mail_record_free(a);
	mail_record_free(b);
	mail_record_free(c);
}

static void test_snippet_utf8_cut(void **state)
{
	char msg[2048];
	int n = sprintf(msg, "Subject: s\nContent-Type: text/plain; charset=utf-8\n\n");
	struct mail_record *rec;

	(void)state;
	for (int i = 0; i < 300; i++)
		n += sprintf(msg + n, "\xc3\xa9");
	sprintf(msg + n, "\n");
	rec = parse(msg);
	assert_int_equal(strlen(rec->snippet), 2 * MAIL_SNIPPET_CHARS);
	for (size_t i = 0; i < strlen(rec->snippet); i += 2)
		assert_memory_equal(rec->snippet + i, "\xc3\xa9", 2);
	mail_record_free(rec);
}

/* ---- the corpus address vectors (optional) ---- */

#define VECTORS "../shared/corpus/stalwart-mail-parser/header-vectors/address.json"

/* expected_add - flatten one expected entry (mailbox or group) into the arrays */
static void expected_add(json_t *e, json_t *addrs)
{
	json_t *members = json_object_get(e, "addresses");
	json_t *addr = json_object_get(e, "address");
	size_t i;
	json_t *m;

	if (json_is_array(members)) {
		json_array_foreach(members, i, m)
			expected_add(m, addrs);
		return;
	}
	if (json_is_string(addr)) {
		const char *a = json_string_value(addr);
		char bare[512], *norm;
		size_t n = 0;

		if (strncmp(a, "mailto:", 7) == 0)  /* List-* URL vectors, not addresses */
			return;
		if (*a == '@' && strchr(a, ':') != NULL)  /* obsolete route */
			a = strchr(a, ':') + 1;
		for (; *a && n + 1 < sizeof(bare); a++)
			if (*a != ' ' && *a != '\t')
				bare[n++] = *a;
		bare[n] = '\0';
		norm = mail_addr_normalise(bare);

		if (norm != NULL) {
			int dup = 0;
			size_t j;
			json_t *x;

			json_array_foreach(addrs, j, x)
				if (strcasecmp(json_string_value(x), norm) == 0)
					dup = 1;
			if (!dup)
				json_array_append_new(addrs, json_string(norm));
			free(norm);
		}
	}
}

static void test_corpus_address_vectors(void **state)
{
	json_error_t jerr;
	json_t *root, *v;
	size_t i, tried = 0, matched = 0;

	(void)state;
	if (access(VECTORS, R_OK) != 0)
		skip();
	root = json_load_file(VECTORS, 0, &jerr);
	assert_non_null(root);
	json_array_foreach(root, i, v) {
		const char *header = json_string_value(json_object_get(v, "header"));
		json_t *exp = json_object_get(v, "expected"), *list, *want = json_array(), *e;
		struct mail_record *rec;
		char *msg;
		size_t j;
		int ok = 1;

		if (header == NULL || !json_is_object(exp))
			continue;
		list = json_object_get(exp, "List");
		if (list == NULL)
			list = json_object_get(exp, "Group");
		if (list == NULL)
			list = json_object_get(exp, "Address") ? json_pack("[O]", json_object_get(exp, "Address"))
							       : NULL;
		else
			json_incref(list);
		if (list == NULL) {
			json_decref(want);
			continue;
		}
		json_array_foreach(list, j, e)
			expected_add(e, want);
		if (json_array_size(want) == 0) {
			json_decref(list);
			json_decref(want);
			continue;
		}
		msg = malloc(strlen(header) + 32);
		sprintf(msg, "To:%s\nSubject: v\n\nx\n", header);
		rec = parse(msg);
		tried++;
		if (rec->to.n != json_array_size(want))
			ok = 0;
		for (j = 0; ok && j < rec->to.n; j++)
			if (strcasecmp(rec->to.v[j].addr, json_string_value(json_array_get(want, j))) != 0)
				ok = 0;
		if (ok)
			matched++;
		else
			print_message("address vector %zu differs: %s", i, header);
		mail_record_free(rec);
		free(msg);
		json_decref(list);
		json_decref(want);
	}
	json_decref(root);
	print_message("address vectors: %zu of %zu match\n", matched, tried);
	assert_true(tried > 0);
	assert_true(matched * 10 >= tried * 9);
}

/* main - run every test once GMime is initialised */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_references_cap),
		cmocka_unit_test(test_missing_msgid_synthetic),
		cmocka_unit_test(test_date_parsed),
		cmocka_unit_test(test_date_fallback),
		cmocka_unit_test(test_date_clock_behind),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_garbage_input),
		cmocka_unit_test(test_cr_only_and_warnings),
		cmocka_unit_test(test_encoded_words),
		cmocka_unit_test(test_raw_8bit_headers),
		cmocka_unit_test(test_subject_missing),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_rfc2231_name_in_address),
		cmocka_unit_test(test_address_cap),
		cmocka_unit_test(test_addr_normalise),
		cmocka_unit_test(test_addr_is_automated),
		cmocka_unit_test(test_registrable_domain),
		cmocka_unit_test(test_freemail),
		cmocka_unit_test(test_subject_normalise),
		cmocka_unit_test(test_subject_generic),
		cmocka_unit_test(test_subject_placeholder),
		cmocka_unit_test(test_thread_index_key),
		cmocka_unit_test(test_alternative_prefers_plain),
		cmocka_unit_test(test_html_only),
		cmocka_unit_test(test_charset_and_invalid_utf8),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_attachments),
		cmocka_unit_test(test_tnef_files_and_cap),
		cmocka_unit_test(test_tnef_hostile),
		cmocka_unit_test(test_forwarded_rfc822),
		cmocka_unit_test(test_decision_headers),
		cmocka_unit_test(test_flags_bounce),
		cmocka_unit_test(test_flags_autoreply),
		cmocka_unit_test(test_flags_bulk),
		cmocka_unit_test(test_flags_html),
		cmocka_unit_test(test_quotes_gt_and_attribution),
		cmocka_unit_test(test_quotes_languages),
		cmocka_unit_test(test_quotes_outlook),
		cmocka_unit_test(test_snippet_utf8_cut),
		cmocka_unit_test(test_corpus_address_vectors),
	};

	mail_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
