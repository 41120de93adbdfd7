/*
 * raw.c - zstd compression of raw sources and bodies, with a trained
 * dictionary
 *
 * Mail is many small, similar texts: compressed one by one, each frame
 * relearns the same header names, hosts and phrases.  So the store trains
 * a zstd dictionary, keeps it in the zdicts table, and compresses
 * every later raw source and body with it (the row records which
 * dictionary: raw.dict_id, messages.body_dict; NULL means none).  The
 * dictionary takes about a third off what a plain-text message costs.
 * It is trained once, from whichever comes first: an import's first
 * messages, handed over in memory (store_zdict_offer), or, once the store
 * holds DICT_TRAIN_AT messages (live mail comes a few at a time), the
 * latest raw sources stored.  The first way costs an import no frame
 * made twice: compressing the first thousand messages without a
 * dictionary, then reading and compressing them again, was a fifth of an
 * import of real list mail.  The raw sources stored before the dictionary
 * existed are recompressed with it when it is made.  A dictionary is
 * never changed or deleted while rows use it.
 *
 * Private API (store_int.h): store_zcompress, store_zdecompress,
 * store_zdict_load, store_zdict_maybe_train, store_zdict_drop, store_zfree;
 * public (store.h): store_zdict_offer and the calls below.
 *
 * Compression on other threads (store.h): store_zdict_get hands out a
 * reference to the current dictionary, which is immutable and counted, so
 * an import's parsing threads compress raw sources with it while the
 * writer goes on (store_zctx_compress); the writer stores such a frame as
 * it is when its dictionary is still the store's (store_item.raw_z), and
 * compresses again otherwise.  A dictionary lives until its last
 * reference is put: a training rolled back or a forget that drops the
 * dictionary leaves the frames made with it to be made again.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZDICT_STATIC_LINKING_ONLY	/* ZDICT_trainFromBuffer_fastCover */
#include <zdict.h>

#include "store_int.h"

/* zstd's fastest level: with the dictionary, on usrp-users-2020 it stores
 * 3.6% more than level 3 (0.63 of the Maildir against 0.61) and imports
 * 9% faster, compression being a fifth of an import's work */
#define ZSTD_LEVEL       1
#define DICT_TRAIN_AT    1000          /* messages stored before training */
#define DICT_SAMPLES     1000          /* latest raw sources (and bodies) used to train */
#define DICT_SAMPLES_STR "1000"
#define DICT_SAMPLE_MAX  (8 * 1024)    /* bytes of one sample used */
#define DICT_MIN_SAMPLES 100           /* fewer do not make a useful dictionary */
#define DICT_SIZE        (112 * 1024)  /* zstd's own default */
#define DICT_K           200           /* fastCover segment size, fixed: no search */
#define DICT_D           8             /* fastCover dmer size */

/* a compression dictionary, shared read-only between threads */
struct store_zdict {
	atomic_int refs;
	ZSTD_CDict *cd;
	int64_t id;                  /* zdicts.id */
};

/* a compression context of one thread */
struct store_zctx {
	ZSTD_CCtx *cc;
};

/* store_zdict_get - see store.h */
struct store_zdict *store_zdict_get(struct store *st)
{
	return store_zdict_dup(st->zdict);
}

/* store_zdict_dup - see store.h */
struct store_zdict *store_zdict_dup(struct store_zdict *d)
{
	if (d)
		atomic_fetch_add(&d->refs, 1);
	return d;
}

/* store_zdict_put - see store.h */
void store_zdict_put(struct store_zdict *d)
{
	if (d && atomic_fetch_sub(&d->refs, 1) == 1) {
		ZSTD_freeCDict(d->cd);
		free(d);
	}
}

/* store_zdict_id - see store.h */
int64_t store_zdict_id(const struct store_zdict *d)
{
	return d ? d->id : 0;
}

/* store_zdict_drop - see store_int.h */
void store_zdict_drop(struct store *st)
{
	store_zdict_put(st->zdict);
	st->zdict = NULL;
}

/* store_zctx_new - see store.h */
struct store_zctx *store_zctx_new(void)
{
	struct store_zctx *z = calloc(1, sizeof *z);

	if (z && !(z->cc = ZSTD_createCCtx())) {
		free(z);
		z = NULL;
	}
	return z;
}

/* store_zctx_free - see store.h */
void store_zctx_free(struct store_zctx *z)
{
	if (z) {
		ZSTD_freeCCtx(z->cc);
		free(z);
	}
}

/* store_zctx_compress - see store.h */
void *store_zctx_compress(struct store_zctx *z, const struct store_zdict *d, const void *src,
			  size_t len, size_t *outlen)
{
	size_t bound = ZSTD_compressBound(len), r;
	void *out = malloc(bound), *shrunk;

	if (!out)
		return NULL;
	r = ZSTD_compress_usingCDict(z->cc, out, bound, src, len, d->cd);
	if (ZSTD_isError(r)) {
		free(out);
		return NULL;
	}
	*outlen = r;
	shrunk = realloc(out, r ? r : 1);	/* the frame waits in a queue: hold no slack */
	return shrunk ? shrunk : out;
}

/* oom - report memory exhaustion */
static int oom(struct store *st)
{
	return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
}

/*
 * store_zcompress - compress LEN bytes at SRC (with the current dictionary
 * when there is one) into the store's scratch buffer.  Returns STORE_OK
 * with *out and *outlen valid until the next call and *dict_id the
 * dictionary used (0: none), or an error class.  The store owns *out.
 */
int store_zcompress(struct store *st, const void *src, size_t len, const void **out,
		    size_t *outlen, int64_t *dict_id)
{
	size_t bound = ZSTD_compressBound(len), r;

	if (!st->zc && !(st->zc = ZSTD_createCCtx()))
		return oom(st);
	if (bound > st->zcap) {
		void *nb = realloc(st->zbuf, bound);

		if (!nb)
			return oom(st);
		st->zbuf = nb;
		st->zcap = bound;
	}
	if (st->zdict)
		r = ZSTD_compress_usingCDict(st->zc, st->zbuf, st->zcap, src, len, st->zdict->cd);
	else
		r = ZSTD_compressCCtx(st->zc, st->zbuf, st->zcap, src, len, ZSTD_LEVEL);
	if (ZSTD_isError(r))
		return store_fail(st, STORE_EINVAL, "%s: zstd: %s", st->path, ZSTD_getErrorName(r));
	*out = st->zbuf;
	*outlen = r;
	*dict_id = store_zdict_id(st->zdict);
	return STORE_OK;
}

/* dict_blob - read dictionary ID from zdicts; a malloc()ed copy, or NULL */
static void *dict_blob(struct store *st, int64_t id, size_t *len)
{
	sqlite3_stmt *s = NULL;
	void *copy = NULL;

	if (sqlite3_prepare_v2(st->db, "SELECT dict FROM zdicts WHERE id = ?1", -1, &s, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) > 0) {
			*len = (size_t)sqlite3_column_bytes(s, 0);
			copy = malloc(*len);
			if (copy)
				memcpy(copy, sqlite3_column_blob(s, 0), *len);
		}
	}
	sqlite3_finalize(s);
	return copy;
}

/* ddict_get - the decompression dictionary ID, loaded once; NULL when unknown */
static ZSTD_DDict *ddict_get(struct store *st, int64_t id)
{
	struct store_ddict *nv;
	ZSTD_DDict *d;
	size_t i, len = 0;
	void *blob;

	for (i = 0; i < st->n_ddicts; i++)
		if (st->ddicts[i].id == id)
			return st->ddicts[i].d;
	blob = dict_blob(st, id, &len);
	if (!blob)
		return NULL;
	d = ZSTD_createDDict(blob, len);
	free(blob);
	nv = d ? realloc(st->ddicts, (st->n_ddicts + 1) * sizeof *nv) : NULL;
	if (!nv) {
		ZSTD_freeDDict(d);
		return NULL;
	}
	st->ddicts = nv;
	st->ddicts[st->n_ddicts].id = id;
	st->ddicts[st->n_ddicts++].d = d;
	return d;
}

/*
 * store_zdecompress - decompress the frame Z (made with dictionary DICT_ID,
 * 0 for none) into a new buffer of exactly WANT bytes (0: the size the
 * frame records) plus a NUL.
 * Returns the buffer (the caller frees it), or NULL when the frame or its
 * dictionary is bad or memory runs out.
 */
char *store_zdecompress(struct store *st, const void *z, size_t zlen, size_t want, int64_t dict_id)
{
	ZSTD_DDict *dd = NULL;
	char *out;
	size_t r;

	if (!st->zd && !(st->zd = ZSTD_createDCtx()))
		return NULL;
	if (dict_id && !(dd = ddict_get(st, dict_id)))
		return NULL;
	if (want == 0) {
		unsigned long long fs = ZSTD_getFrameContentSize(z, zlen);

		if (fs == ZSTD_CONTENTSIZE_UNKNOWN || fs == ZSTD_CONTENTSIZE_ERROR ||
		    fs > MAIL_MAX_BODY_TEXT * 4ULL)
			return NULL;
		want = (size_t)fs;
	}
	out = malloc(want + 1);
	if (!out)
		return NULL;
	if (dd)
		r = ZSTD_decompress_usingDDict(st->zd, out, want, z, zlen, dd);
	else
		r = ZSTD_decompressDCtx(st->zd, out, want, z, zlen);
	if (ZSTD_isError(r) || r != want) {
		free(out);
		return NULL;
	}
	out[want] = '\0';
	return out;
}

/* cdict_set - make dictionary ID (BLOB, LEN bytes) the compression dictionary */
static int cdict_set(struct store *st, int64_t id, const void *blob, size_t len)
{
	struct store_zdict *d = calloc(1, sizeof *d);

	if (!d || !(d->cd = ZSTD_createCDict(blob, len, ZSTD_LEVEL))) {
		free(d);
		return oom(st);
	}
	atomic_init(&d->refs, 1);
	d->id = id;
	store_zdict_drop(st);
	st->zdict = d;
	return STORE_OK;
}

/*
 * store_zdict_load - at open: make the newest stored dictionary the one
 * compression uses.  Returns STORE_OK (also when there is none) or a class.
 */
int store_zdict_load(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int64_t id = 0;
	size_t len = 0;
	void *blob;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "SELECT max(id) FROM zdicts", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "reading compression dictionaries");
	if (!id)
		return STORE_OK;
	blob = dict_blob(st, id, &len);
	if (!blob)
		return store_fail(st, STORE_ECORRUPT, "%s: compression dictionary %lld unreadable",
				  st->path, (long long)id);
	rc = cdict_set(st, id, blob, len);
	free(blob);
	return rc;
}

/* samples - the growing buffer of training samples */
struct store_samples {
	char *buf;
	size_t len, cap;
	size_t *sizes;
	unsigned n;
};

/* samples_add - append one sample (cut to DICT_SAMPLE_MAX); 0 or -1 */
static int samples_add(struct store_samples *sm, const char *p, size_t len)
{
	if (len > DICT_SAMPLE_MAX)
		len = DICT_SAMPLE_MAX;
	if (sm->len + len > sm->cap) {
		size_t cap = (sm->cap ? sm->cap * 2 : 1 << 20) + len;
		char *nb = realloc(sm->buf, cap);

		if (!nb)
			return -1;
		sm->buf = nb;
		sm->cap = cap;
	}
	memcpy(sm->buf + sm->len, p, len);
	sm->len += len;
	sm->sizes[sm->n++] = len;
	return 0;
}

/*
 * samples_from - add the frames SQL returns (columns: frame, dictionary,
 * size), decompressed, to the samples; STORE_OK or a class
 */
static int samples_from(struct store *st, struct store_samples *sm, const char *sql)
{
	sqlite3_stmt *s = NULL;
	char *text;
	int rc;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "training a dictionary");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		text = store_zdecompress(st, sqlite3_column_blob(s, 0),
					 (size_t)sqlite3_column_bytes(s, 0),
					 (size_t)sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 1));
		if (text && samples_add(sm, text, (size_t)sqlite3_column_int64(s, 2)) < 0) {
			free(text);
			break;
		}
		free(text);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_ROW ? oom(st) : store_sqlerr(st, rc, "training a dictionary");
	return STORE_OK;
}

/*
 * samples_collect - the latest raw sources and separately stored bodies
 * (HTML mail, or all bodies when only headers are kept), decompressed
 */
static int samples_collect(struct store *st, struct store_samples *sm)
{
	int rc;

	sm->sizes = calloc(2 * DICT_SAMPLES, sizeof *sm->sizes);
	if (!sm->sizes)
		return oom(st);
	rc = samples_from(st, sm, "SELECT data, dict_id, kept FROM raw WHERE data IS NOT NULL"
			  " ORDER BY message_id DESC LIMIT " DICT_SAMPLES_STR);
	if (rc == STORE_OK)
		rc = samples_from(st, sm, "SELECT body, dict_id, body_len FROM messages"
				  " WHERE body IS NOT NULL ORDER BY id DESC LIMIT " DICT_SAMPLES_STR);
	return rc;
}

/* dict_store - keep a trained dictionary; *id its row */
static int dict_store(struct store *st, const void *dict, size_t len, int64_t *id)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "INSERT INTO zdicts (dict, created) VALUES (?1, ?2)", -1,
				&s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_blob(s, 1, dict, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
		rc = sqlite3_step(s);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, rc, "storing a dictionary");
	*id = sqlite3_last_insert_rowid(st->db);
	return STORE_OK;
}

/* messages_stored - the highest messages.id (a cheap count); -1 on error */
static int64_t messages_stored(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(st->db, "SELECT coalesce(max(id), 0) FROM messages", -1, &s,
			       NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* recompress_one - store the raw row MID again, compressed with the dictionary */
static int recompress_one(struct store *st, sqlite3_stmt *upd, int64_t mid, const void *z,
			  size_t zlen, size_t kept)
{
	char *text = store_zdecompress(st, z, zlen, kept, 0);
	const void *nz;
	size_t nlen;
	int64_t dict;
	int rc;

	if (!text)
		return store_fail(st, STORE_ECORRUPT, "%s: message %lld: raw source unreadable",
				  st->path, (long long)mid);
	rc = store_zcompress(st, text, kept, &nz, &nlen, &dict);
	free(text);
	if (rc != STORE_OK)
		return rc;
	sqlite3_bind_blob(upd, 1, nz, (int)nlen, SQLITE_STATIC);
	sqlite3_bind_int64(upd, 2, dict);
	sqlite3_bind_int64(upd, 3, mid);
	rc = store_step_done(st, upd, "recompressing a raw source");
	sqlite3_clear_bindings(upd);
	return rc;
}

/* recompress - the raw sources stored without a dictionary, with the new one */
static int recompress(struct store *st)
{
	sqlite3_stmt *s = NULL, *upd = NULL;
	int rc, r;

	rc = sqlite3_prepare_v2(st->db, "SELECT message_id, data, kept FROM raw"
				" WHERE dict_id IS NULL AND data IS NOT NULL", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db, "UPDATE raw SET data = ?1, dict_id = ?2"
					" WHERE message_id = ?3", -1, &upd, NULL);
	if (rc != SQLITE_OK) {
		rc = store_sqlerr(st, rc, "recompressing raw sources");
		goto out;
	}
	rc = STORE_OK;
	while (rc == STORE_OK && (r = sqlite3_step(s)) == SQLITE_ROW)
		rc = recompress_one(st, upd, sqlite3_column_int64(s, 0), sqlite3_column_blob(s, 1),
				    (size_t)sqlite3_column_bytes(s, 1),
				    (size_t)sqlite3_column_int64(s, 2));
	if (rc == STORE_OK && r != SQLITE_DONE)
		rc = store_sqlerr(st, r, "recompressing raw sources");
out:
	sqlite3_finalize(s);
	sqlite3_finalize(upd);
	return rc;
}

/*
 * trainer - zstd's fastCover trainer with fixed parameters into DICT
 * (DICT_SIZE bytes); returns the dictionary's length or a ZDICT error.
 * ZDICT_trainFromBuffer searches its parameters, training several
 * dictionaries to keep the best: on 2,000 samples of real list mail that
 * took 2.4 s, a third of a whole import, for a dictionary that compressed
 * the later mail 0.7% better than this one, which takes 0.25 s.
 */
static size_t trainer(void *dict, const struct store_samples *sm)
{
	ZDICT_fastCover_params_t p;

	memset(&p, 0, sizeof p);
	p.k = DICT_K;
	p.d = DICT_D;
	p.splitPoint = 1.0;		/* train on every sample, test on none */
	p.zParams.compressionLevel = ZSTD_LEVEL;
	return ZDICT_trainFromBuffer_fastCover(dict, DICT_SIZE, sm->buf, sm->sizes, sm->n, p);
}

/*
 * train - train a dictionary from SM, store it, make it the one compression
 * uses and recompress the raw sources stored without one; *id 0 when the
 * mail does not make a useful one.  Inside a transaction.
 */
static int train(struct store *st, const struct store_samples *sm, void **dict, size_t *len,
		 int64_t *id)
{
	int rc = STORE_OK;

	*id = 0;
	if (sm->n < DICT_MIN_SAMPLES)
		return STORE_OK;
	*dict = malloc(DICT_SIZE);
	if (!*dict)
		return oom(st);
	*len = trainer(*dict, sm);
	if (!ZDICT_isError(*len))
		rc = dict_store(st, *dict, *len, id);
	if (rc == STORE_OK && *id)
		rc = cdict_set(st, *id, *dict, *len);
	if (rc == STORE_OK && *id)
		rc = recompress(st);
	return rc;
}

/*
 * train_and_keep - train from SM in a transaction of its own; *id as
 * train's.  Returns STORE_OK or an error class (then nothing changed and
 * compression goes on without a dictionary).
 */
static int train_and_keep(struct store *st, const struct store_samples *sm, int64_t *id)
{
	void *dict = NULL;
	size_t len = 0;
	int rc;

	*id = 0;
	rc = store_exec(st, "BEGIN IMMEDIATE");
	if (rc != STORE_OK)
		return rc;
	rc = train(st, sm, &dict, &len, id);
	if (rc == STORE_OK)
		rc = store_exec(st, "COMMIT");
	if (rc != STORE_OK) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		store_zdict_drop(st);        /* its row is gone with the rollback */
	}
	free(dict);
	return rc;
}

/* samples_free - free what SM holds */
static void samples_free(struct store_samples *sm)
{
	free(sm->buf);
	free(sm->sizes);
}

/*
 * store_zdict_maybe_train - before a batch, outside its transaction: when
 * there is no dictionary yet and enough mail is stored, train one from
 * the latest raw sources in a transaction of its own, and use it from now
 * on.  A training that gives nothing (too little or too uniform mail) is
 * retried after twice as many messages.  Returns STORE_OK or an error
 * class (then nothing changed).
 */
int store_zdict_maybe_train(struct store *st)
{
	struct store_samples sm = { 0 };
	int64_t n, id = 0;
	int rc;

	if (st->zdict || st->raw == STORE_RAW_NONE)
		return STORE_OK;
	n = messages_stored(st);
	if (n < DICT_TRAIN_AT || n < st->dict_retry_at)
		return STORE_OK;
	rc = samples_collect(st, &sm);
	if (rc == STORE_OK)
		rc = train_and_keep(st, &sm, &id);
	if (rc == STORE_OK && !id)
		st->dict_retry_at = 2 * n;
	samples_free(&sm);
	return rc;
}

/*
 * offer_add - append the first DICT_SAMPLE_MAX bytes of each of the N
 * sources to ST's offered samples, up to DICT_SAMPLES in all; STORE_OK or
 * an error class (then some may have been added: the caller undoes them)
 */
static int offer_add(struct store *st, const char *const *srcs, const size_t *lens, size_t n)
{
	struct store_samples *sm = st->offered;

	if (!sm && !(sm = st->offered = calloc(1, sizeof *sm)))
		return oom(st);
	if (!sm->sizes && !(sm->sizes = calloc(DICT_SAMPLES, sizeof *sm->sizes)))
		return oom(st);
	for (size_t i = 0; i < n && sm->n < DICT_SAMPLES; i++)
		if (srcs[i] && lens[i] && samples_add(sm, srcs[i], lens[i]) < 0)
			return oom(st);
	return STORE_OK;
}

/* offer_end - forget the offered samples; DONE: and take no more */
static void offer_end(struct store *st, int done)
{
	if (st->offered)
		samples_free(st->offered);
	free(st->offered);
	st->offered = NULL;
	st->offer_done |= done;
}

/* store_zdict_offer - see store.h */
int store_zdict_offer(struct store *st, const char *const *srcs, const size_t *lens, size_t n,
		      char *err, size_t errlen)
{
	unsigned n0;
	size_t len0;
	int64_t id;
	int rc;

	rc = store_write_begin(st, err, errlen);
	if (rc != STORE_OK || st->offer_done)
		return store_write_end(st, rc);
	if (st->zdict || st->raw != STORE_RAW_FULL) {
		offer_end(st, 1);
		return store_write_end(st, STORE_OK);
	}
	n0 = st->offered ? st->offered->n : 0;
	len0 = st->offered ? st->offered->len : 0;
	rc = offer_add(st, srcs, lens, n);
	if (rc == STORE_OK && st->offered->n < DICT_MIN_SAMPLES)
		return store_write_end(st, STORE_OK);	/* kept for the next offer */
	if (rc == STORE_OK)
		rc = train_and_keep(st, st->offered, &id);
	if (rc == STORE_OK)
		offer_end(st, 1);
	else if (st->offered) {
		st->offered->n = n0;	/* not taken: the caller offers them again */
		st->offered->len = len0;
	}
	return store_write_end(st, rc);
}

/* store_zfree - free every compression state of the store */
void store_zfree(struct store *st)
{
	size_t i;

	offer_end(st, 1);
	ZSTD_freeCCtx(st->zc);
	ZSTD_freeDCtx(st->zd);
	store_zdict_drop(st);
	for (i = 0; i < st->n_ddicts; i++)
		ZSTD_freeDDict(st->ddicts[i].d);
	free(st->ddicts);
	free(st->zbuf);
}
