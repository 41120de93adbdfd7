/*
 * fuzz_spool.c - fuzz target: spool_read(), the reader of crmilter's spool
 * files (milter/spool.c), and spool_reason()
 *
 * The spool is written by crmilter itself, but a file in new/ or failed/
 * may be cut short by a full disk, damaged, or put there by hand: the
 * worker and `crmctl spool` must treat any bytes as data.  The input is
 * written as new/NAME of a scratch spool and read back; an accepted file's
 * message and envelope must lie inside the file.  The same bytes are then
 * read as a failed/NAME.reason file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../milter/spool.h"
#include "fuzz.h"

#define NAME "1700000000.000001.1_1.FUZZ"

/* LLVMFuzzerTestOneInput - see fuzz.h */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spool *sp;
	char dir[4200], path[8400], err[1024], reason[4096];
	struct spool_msg m;
	unsigned h = 0;

	snprintf(dir, sizeof dir, "%s/spool", fuzz_dir());
	if (!sp && spool_open(dir, 1, &sp, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	snprintf(path, sizeof path, "%s/new/" NAME, dir);
	fuzz_put_file(path, data, size);
	if (spool_read(sp, SPOOL_NEW, NAME, &m, err, sizeof err) == 0) {
		const struct spool_env *e = &m.env;
		if (m.raw < m.buf || m.raw + m.raw_len > m.buf + m.buf_len)
			abort();	/* the message lies outside the file */
		h ^= fuzz_consume(m.raw, m.raw_len);
		h ^= fuzz_consume_str(e->queue_id) ^ fuzz_consume_str(e->mail_from);
		h ^= fuzz_consume_str(e->client_addr) ^ fuzz_consume_str(e->client_name);
		h ^= fuzz_consume_str(e->auth_authen) ^ fuzz_consume_str(e->daemon_name);
		h ^= fuzz_consume_str(e->message_id);
		for (size_t i = 0; i < e->n_rcpts; i++)
			h ^= fuzz_consume_str(e->rcpts[i]);
		h ^= (unsigned)e->arrival ^ (unsigned)e->size ^ (unsigned)e->originated;
		spool_msg_free(&m);
	} else {
		h ^= fuzz_consume_str(err);
	}
	snprintf(path, sizeof path, "%s/failed/" NAME ".reason", dir);
	fuzz_put_file(path, data, size);
	h ^= fuzz_consume_str(spool_reason(sp, NAME, reason, sizeof reason));
	fuzz_sink ^= h;
	return 0;
}
