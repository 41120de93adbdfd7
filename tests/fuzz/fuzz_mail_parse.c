/*
 * fuzz_mail_parse.c - fuzz target: mail_parse() on raw message bytes
 *
 * The input is one raw message, as the milter spools it or import reads
 * it.  Besides parsing, it runs what the store does with a record: the
 * snippet, the subject key, the Thread-Index key, address checks and the
 * registrable domain of every address, and reads every string of the
 * record so a bad length or a missing terminator shows at once.
 * The low bit of the length chooses the "truncated by the caller" flag.
 */
#include <stdlib.h>

#include "../../mail/mail.h"
#include "fuzz.h"

/* touch_addrs - read and check every address of a list */
static unsigned touch_addrs(const struct mail_addrs *l)
{
	unsigned h = 0;
	for (size_t i = 0; i < l->n; i++) {
		h ^= fuzz_consume_str(l->v[i].name) ^ fuzz_consume_str(l->v[i].addr);
		h ^= (unsigned)mail_addr_is_automated(l->v[i].addr);
		if (l->v[i].domain && *l->v[i].domain) {
			char *reg = mail_registrable_domain(l->v[i].domain);
			h ^= fuzz_consume_str(reg) ^ (unsigned)mail_is_freemail(reg ? reg : "");
			free(reg);
		}
	}
	return h;
}

/* LLVMFuzzerTestOneInput - see fuzz.h */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_parse_opts opts = { .fallback_date = 1700000000, .truncated = (int)(size & 1) };
	struct mail_record *rec = NULL;
	unsigned h = 0;

	mail_init();
	h ^= (unsigned)mail_looks_like_message((const char *)data, size);
	if (mail_parse((const char *)data, size, &opts, &rec) < 0) {
		if (size > 0)
			abort();	/* the contract: only an empty input (or no memory) fails */
		return 0;
	}
	h ^= fuzz_consume_str(rec->message_id) ^ fuzz_consume_str(rec->in_reply_to);
	for (size_t i = 0; i < rec->n_references; i++)
		h ^= fuzz_consume_str(rec->references[i]);
	h ^= fuzz_consume_str(rec->subject) ^ fuzz_consume(rec->body, rec->body_len);
	h ^= fuzz_consume_str(rec->snippet);
	h ^= touch_addrs(&rec->from) ^ touch_addrs(&rec->sender) ^ touch_addrs(&rec->reply_to);
	h ^= touch_addrs(&rec->to) ^ touch_addrs(&rec->cc) ^ touch_addrs(&rec->bcc);
	for (size_t i = 0; i < rec->n_quotes; i++)
		if (rec->quotes[i].start > rec->body_len ||
		    rec->quotes[i].len > rec->body_len - rec->quotes[i].start)
			abort();	/* a quote span outside the body */
	char *snip = mail_snippet(rec->body, rec->body_len, rec->quotes, rec->n_quotes);
	h ^= fuzz_consume_str(snip);
	free(snip);
	char *subj = mail_subject_normalise(rec->subject);
	h ^= fuzz_consume_str(subj) ^ (unsigned)mail_subject_is_generic(subj ? subj : "");
	free(subj);
	char *ti = mail_thread_index_key(rec->hdr.thread_index);
	h ^= fuzz_consume_str(ti);
	free(ti);
	for (size_t i = 0; i < rec->n_attachments; i++)
		h ^= fuzz_consume_str(rec->attachments[i].filename) ^
		     fuzz_consume_str(rec->attachments[i].content_type) ^
		     fuzz_consume_str(rec->attachments[i].sha256);
	h ^= fuzz_consume_str(rec->hdr.list_id) ^ fuzz_consume_str(rec->hdr.return_path);
	h ^= fuzz_consume_str(rec->hdr.sensitivity) ^ fuzz_consume_str(rec->hdr.auto_submitted);
	for (size_t i = 0; i < rec->hdr.n_auth_results; i++)
		h ^= fuzz_consume_str(rec->hdr.auth_results[i]);
	for (size_t i = 0; i < rec->n_warnings; i++)
		h ^= fuzz_consume_str(rec->warnings[i]);
	if (rec->header_len > size || rec->body_len > MAIL_MAX_BODY_TEXT + 4)
		abort();	/* lengths the store trusts */
	fuzz_sink ^= h;
	mail_record_free(rec);
	return 0;
}
