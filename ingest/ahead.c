/*
 * ahead.c - parse the next messages on other threads while the caller
 * writes earlier ones
 *
 * A ring of INGEST_AHEAD_SLOTS slots.  The caller fills the slot after the
 * newest; a worker takes the oldest slot not yet parsed and parses it
 * (ingest_parse: no store involved); the caller empties the oldest
 * slot, once parsed, into ingest_queue.  So messages reach the store in
 * the order they were added, whatever thread parsed them.  One mutex
 * guards the ring; parsing runs outside it.  While the oldest slot is
 * still being parsed, the caller parses later ones instead of waiting, so
 * both cores parse when the writer has nothing to write.  Once the store
 * has a compression dictionary, a slot takes a reference to it when its
 * parse starts, and its parser compresses the raw source too (a fifth of
 * the writer's time otherwise); the store uses the frame while that
 * dictionary is still its own (storage/raw.c).
 *
 * Public (ingest.h): ingest_ahead_open, ingest_ahead_add, ingest_ahead_flush,
 * ingest_ahead_close.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_int.h"

enum slot_state { SLOT_FREE, SLOT_WAITING, SLOT_PARSING, SLOT_PARSED };

struct slot {
	enum slot_state state;
	struct ingest_msg msg;       /* msg.raw and msg.origin point at raw, origin */
	char *raw, *origin;
	struct mail_record *rec;
	struct store_zdict *dict;    /* compress raw with it, or NULL: leave it to the store */
	struct ingest_frame frame;   /* raw compressed */
};

struct ingest_ahead {
	struct ingest *in;
	pthread_mutex_t lock;
	pthread_cond_t work;         /* a slot waits for a parser, or stop */
	pthread_cond_t done;         /* a slot was parsed */
	struct store_zdict *dict;    /* what parsers compress with (a reference), or NULL */
	struct store_zctx *zc;       /* the caller's, when it parses while it waits */
	struct slot ring[INGEST_AHEAD_SLOTS];
	size_t head, count;          /* the oldest slot, slots in use */
	size_t bytes;                /* message bytes the slots hold */
	size_t next;                 /* slots before head + next are taken by parsers */
	int stop;
	unsigned workers;
	pthread_t threads[];
};

/* slot_clear - free what SLOT holds and mark it free */
static void slot_clear(struct slot *sl)
{
	free(sl->raw);
	free(sl->origin);
	free(sl->frame.z);
	store_zdict_put(sl->dict);
	mail_record_free(sl->rec);
	memset(sl, 0, sizeof *sl);
}

/* compress - SL's raw source with its dictionary into its frame (none when memory runs out) */
static void compress(struct store_zctx **zc, struct slot *sl)
{
	if (!sl->dict || !sl->raw || !sl->rec || !sl->msg.len ||
	    (!*zc && !(*zc = store_zctx_new())))
		return;
	sl->frame.z = store_zctx_compress(*zc, sl->dict, sl->raw, sl->msg.len, &sl->frame.len);
	sl->frame.dict = sl->frame.z ? store_zdict_id(sl->dict) : 0;
}

/*
 * take_waiting - with the lock held: the oldest slot waiting for a parser,
 * marked taken and given the dictionary to compress with, or NULL
 */
static struct slot *take_waiting(struct ingest_ahead *a)
{
	struct slot *sl;

	if (a->next == a->count)
		return NULL;
	sl = &a->ring[(a->head + a->next++) % INGEST_AHEAD_SLOTS];
	sl->state = SLOT_PARSING;
	sl->dict = store_zdict_dup(a->dict);
	return sl;
}

/*
 * parse_slot - parse and compress SL outside the lock (ZC: the calling
 * thread's compression context), then mark it parsed.  Called, and
 * returns, with the lock held.
 */
static void parse_slot(struct ingest_ahead *a, struct store_zctx **zc, struct slot *sl)
{
	pthread_mutex_unlock(&a->lock);
	sl->rec = ingest_parse(&sl->msg);
	compress(zc, sl);
	pthread_mutex_lock(&a->lock);
	sl->state = SLOT_PARSED;
	pthread_cond_broadcast(&a->done);
}

/* worker - parse waiting slots, oldest first, until told to stop */
static void *worker(void *arg)
{
	struct ingest_ahead *a = arg;
	struct store_zctx *zc = NULL;
	struct slot *sl;

	pthread_mutex_lock(&a->lock);
	while (!a->stop) {
		if ((sl = take_waiting(a)))
			parse_slot(a, &zc, sl);
		else
			pthread_cond_wait(&a->work, &a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	store_zctx_free(zc);
	return NULL;
}

/*
 * dict_refresh - on the caller's thread: let the parsers compress with the
 * store's current dictionary (one appears when the first messages train
 * it, store_zdict_offer)
 */
static void dict_refresh(struct ingest_ahead *a)
{
	struct store_zdict *d = ingest_zdict(a->in), *old;

	if (d == a->dict) {		/* only this thread changes a->dict */
		store_zdict_put(d);
		return;
	}
	pthread_mutex_lock(&a->lock);
	old = a->dict;
	a->dict = d;
	pthread_mutex_unlock(&a->lock);
	store_zdict_put(old);
}

/*
 * queue_oldest - hand the oldest slot, once parsed, to ingest_queue; while
 * it is being parsed, parse later ones rather than wait, so the writer's
 * idle time goes to parsing.  Returns 0 (the slot is free again) or a
 * store_err class (it stays).
 */
static int queue_oldest(struct ingest_ahead *a, char *err, size_t errlen)
{
	struct slot *sl = &a->ring[a->head], *w;
	int rc;

	pthread_mutex_lock(&a->lock);
	while (sl->state != SLOT_PARSED) {
		if ((w = take_waiting(a)))
			parse_slot(a, &a->zc, w);
		else
			pthread_cond_wait(&a->done, &a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	rc = ingest_queue(a->in, &sl->msg, sl->raw, sl->origin, sl->rec, &sl->frame, err, errlen);
	if (rc != STORE_OK)
		return rc;
	a->bytes -= sl->msg.len;
	store_zdict_put(sl->dict);
	memset(sl, 0, sizeof *sl);	/* the queue owns (or freed) what it held */
	pthread_mutex_lock(&a->lock);
	a->head = (a->head + 1) % INGEST_AHEAD_SLOTS;
	a->count--;
	a->next--;
	pthread_mutex_unlock(&a->lock);
	dict_refresh(a);
	return STORE_OK;
}

/* ingest_ahead_open - see ingest.h */
int ingest_ahead_open(struct ingest *in, unsigned workers, struct ingest_ahead **out, char *err,
		      size_t errlen)
{
	struct ingest_ahead *a = calloc(1, sizeof *a + workers * sizeof a->threads[0]);

	*out = NULL;
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->in = in;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->done, NULL);
	for (; a->workers < workers; a->workers++) {
		int e = pthread_create(&a->threads[a->workers], NULL, worker, a);

		if (e) {
			snprintf(err, errlen, "cannot start a parsing thread: %s", strerror(e));
			ingest_ahead_close(a);
			return -1;
		}
	}
	*out = a;
	return 0;
}

/* ingest_ahead_add - see ingest.h */
int ingest_ahead_add(struct ingest_ahead *a, const struct ingest_msg *msg, char *err,
		     size_t errlen)
{
	struct slot *sl;
	int rc;

	if (!a->workers)
		return ingest_add(a->in, msg, err, errlen);
	if (!a->count)
		dict_refresh(a);		/* the store's, before the first slot */
	while (a->count == INGEST_AHEAD_SLOTS ||
	       (a->count && a->bytes + msg->len > INGEST_AHEAD_BYTES))
		if ((rc = queue_oldest(a, err, errlen)) != STORE_OK)
			return rc;
	sl = &a->ring[(a->head + a->count) % INGEST_AHEAD_SLOTS];
	sl->msg = *msg;
	ingest_copy(msg, &sl->raw, &sl->origin);
	sl->msg.raw = sl->raw;
	sl->msg.origin = sl->origin;
	pthread_mutex_lock(&a->lock);
	sl->state = SLOT_WAITING;
	a->count++;
	a->bytes += msg->len;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
	return STORE_OK;
}

/* ingest_ahead_flush - see ingest.h */
int ingest_ahead_flush(struct ingest_ahead *a, char *err, size_t errlen)
{
	int rc;

	while (a->count)
		if ((rc = queue_oldest(a, err, errlen)) != STORE_OK)
			return rc;
	return ingest_flush(a->in, err, errlen);
}

/* ingest_ahead_close - see ingest.h */
void ingest_ahead_close(struct ingest_ahead *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = 1;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	for (unsigned i = 0; i < a->workers; i++)
		pthread_join(a->threads[i], NULL);
	for (size_t i = 0; i < INGEST_AHEAD_SLOTS; i++)
		slot_clear(&a->ring[i]);
	store_zdict_put(a->dict);
	store_zctx_free(a->zc);
	pthread_cond_destroy(&a->work);
	pthread_cond_destroy(&a->done);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
