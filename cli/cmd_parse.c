/*
 * cmd_parse.c - crmctl parse: show what the parser makes of a message
 *
 * A dry run of the first pipeline step for ops and for tests: prints the
 * record (ids, date, decoded subject and addresses, flags, decision headers,
 * attachments, warnings, body) of each message in the given files, as JSON
 * or text.  Nothing is stored.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* addrs_json - an address list as [{"name", "address"}] */
static json_t *addrs_json(const struct mail_addrs *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_pack("{s:s?, s:s}", "name", l->v[i].name,
						   "address", l->v[i].addr));
	return a;
}

/* strings_json - a string array */
static json_t *strings_json(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* flags_json - the record's flags by name */
static json_t *flags_json(unsigned flags)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ MAIL_BOUNCE, "bounce" }, { MAIL_AUTOREPLY, "auto-reply" },
		{ MAIL_BULK, "bulk" }, { MAIL_TRUNCATED, "truncated" },
		{ MAIL_HTML_BODY, "html" }, { MAIL_NO_MSGID, "no-message-id" },
		{ MAIL_BAD_DATE, "bad-date" },
	};
	json_t *a = json_array();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (flags & names[i].bit)
			json_array_append_new(a, json_string(names[i].name));
	return a;
}

/* record_json - the whole record as a new JSON object */
static json_t *record_json(const struct mail_record *r)
{
	char date[32];
	time_t t = (time_t)r->date;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *atts = json_array();
	for (size_t i = 0; i < r->n_attachments; i++)
		json_array_append_new(atts, json_pack("{s:s?, s:s?, s:I, s:s}",
			"filename", r->attachments[i].filename,
			"content_type", r->attachments[i].content_type,
			"size", (json_int_t)r->attachments[i].size,
			"sha256", r->attachments[i].sha256));
	json_t *quotes = json_array();
	for (size_t i = 0; i < r->n_quotes; i++)
		json_array_append_new(quotes, json_pack("[I, I]", (json_int_t)r->quotes[i].start,
							(json_int_t)r->quotes[i].len));
	json_t *hdr = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o}",
		"list_id", r->hdr.list_id, "list_unsubscribe", r->hdr.list_unsubscribe,
		"precedence", r->hdr.precedence, "auto_submitted", r->hdr.auto_submitted,
		"x_auto_response_suppress", r->hdr.x_auto_response_suppress,
		"sensitivity", r->hdr.sensitivity, "thread_index", r->hdr.thread_index,
		"return_path", r->hdr.return_path,
		"authentication_results", strings_json(r->hdr.auth_results, r->hdr.n_auth_results));
	json_t *o = json_object();
	json_object_set_new(o, "message_id", json_string(r->message_id));
	json_object_set_new(o, "in_reply_to", r->in_reply_to ? json_string(r->in_reply_to) : json_null());
	json_object_set_new(o, "references", strings_json(r->references, r->n_references));
	json_object_set_new(o, "date", json_string(date));
	json_object_set_new(o, "subject", json_string(r->subject));
	json_object_set_new(o, "from", addrs_json(&r->from));
	json_object_set_new(o, "sender", addrs_json(&r->sender));
	json_object_set_new(o, "reply_to", addrs_json(&r->reply_to));
	json_object_set_new(o, "to", addrs_json(&r->to));
	json_object_set_new(o, "cc", addrs_json(&r->cc));
	json_object_set_new(o, "bcc", addrs_json(&r->bcc));
	json_object_set_new(o, "flags", flags_json(r->flags));
	json_object_set_new(o, "headers", hdr ? hdr : json_null());
	json_object_set_new(o, "attachments", atts);
	json_object_set_new(o, "size", json_integer((json_int_t)r->size));
	json_object_set_new(o, "snippet", json_string(r->snippet));
	json_object_set_new(o, "body", json_stringn(r->body, r->body_len));
	json_object_set_new(o, "quotes", quotes);
	json_object_set_new(o, "warnings", strings_json(r->warnings, r->n_warnings));
	return o;
}

/* parse_text - a short human summary of a record */
static void parse_text(const char *origin, json_t *o)
{
	printf("%s\n", origin);
	const char *keys[] = { "message_id", "date", "subject", "snippet" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		printf("  %-11s %s\n", keys[i], json_string_value(json_object_get(o, keys[i])));
	char *flags = json_dumps(json_object_get(o, "flags"), JSON_COMPACT);
	char *from = json_dumps(json_object_get(o, "from"), JSON_COMPACT);
	printf("  %-11s %s\n  %-11s %s\n", "from", from, "flags", flags);
	free(flags);
	free(from);
}

/* cmd_parse - crmctl parse [--json] PATH... */
int cmd_parse(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, json = 0;
	while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (ch == 'j') {
			json = 1;
			continue;
		}
		fprintf(ch == 'h' ? stdout : stderr, "usage: crmctl parse [--json] PATH...\n");
		return ch == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (optind >= argc) {
		cli_error("parse: no PATH given");
		return CLI_USAGE;
	}
	mail_init();
	int status = CLI_OK;
	char err[1024];
	for (int i = optind; i < argc; i++) {
		struct mail_source *src;
		struct mail_item it;
		int r;
		if (mail_source_open(argv[i], &src, err, sizeof err) < 0) {
			cli_error("%s", err);
			status = CLI_PARTIAL;
			continue;
		}
		while ((r = mail_source_next(src, &it, err, sizeof err)) != 0) {
			struct mail_record *rec;
			struct mail_parse_opts po = { .fallback_date = it.envelope_date };
			if (r < 0 || mail_parse(it.data, it.len, &po, &rec) < 0) {
				cli_error("%s", r < 0 ? err : "cannot parse");
				status = CLI_PARTIAL;
				continue;
			}
			json_t *o = record_json(rec);
			mail_record_free(rec);
			if (json) {
				cli_print_json(o);
			} else {
				parse_text(it.origin, o);
				json_decref(o);
			}
		}
		mail_source_close(src);
	}
	return status;
}
