/*
 * worker.c - the ingest worker: drains the spool into the store in batches
 *
 * One thread.  It wakes when a callback spools a message (or every few
 * seconds, to pick up `crmctl spool retry`), lists new/ in arrival order
 * and feeds up to a batch of files through the same pipeline as crmctl
 * import (ingest.h), then commits the batch in one transaction.  Each file
 * is deleted only after its batch is committed; a crash between the two
 * only makes the next run store it again, which the store recognises.
 * Batches start small after a start or an error (WORKER_FIRST_BATCH) and
 * double with each commit up to INGEST_BATCH_MESSAGES, and a batch takes
 * no more messages once WORKER_BATCH_MS have passed: a crmilter restarted
 * faster than a whole batch still drains the spool.
 *
 * When the store is locked, full, read-only, missing or damaged, the
 * pipeline is closed, the files stay in new/ and the worker retries with a
 * doubling backoff (1 s to 60 s); mail keeps flowing into the spool.  A
 * file that is not a spool file, or a message the pipeline cannot parse
 * or store, moves to failed/ with its reason.  A batch the store refuses
 * as bad data is retried one message at a time to find the culprit.
 *
 * The store file is watched by identity (device and inode): when it is
 * deleted or replaced under the open connection, a batch written into the
 * old file does not count (its files stay in new/), and the store is
 * opened again, which creates a new one.
 *
 * The worker runs at idle priority (SCHED_IDLE): while the machine is
 * busy, mail flow comes first and the spool absorbs the burst.  When the
 * oldest file has waited WORKER_LAG_S, it runs as an ordinary thread at
 * WORKER_NICE until the spool has caught up, so it never starves.
 *
 * One log line per message: queue id, Message-ID, direction, logged or
 * skipped and why, thread.
 */
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "milter_int.h"
#include "../ingest/ingest.h"

#define WORKER_POLL_S      5        /* look at new/ at least this often */
#define WORKER_BACKOFF_MAX 60
#define WORKER_BATCH_BYTES (16u * 1024 * 1024)
#define WORKER_RECOUNT_S   60       /* recount the spool's bytes from disk */
#define WORKER_GATHER_MS   300      /* after a wake-up, let a batch gather */
#define WORKER_NICE        19       /* the MTA's callbacks come first */
#define WORKER_LAG_S       60       /* a spool file this old: leave SCHED_IDLE */
#define WORKER_FIRST_BATCH 8        /* messages of the first batch after a start or an error */
#define WORKER_BATCH_MS    250      /* a batch takes no more messages after this long */

enum item_state { ITEM_PENDING, ITEM_STORED, ITEM_FAILED };

/* one file of the batch; the envelope is a private copy that outlives the raw bytes */
struct item {
	char *name;
	char *queue_id, *message_id, *mail_from, *client_addr, *client_name;
	char *auth_authen, *daemon_name, *reply_tag;
	char **rcpts;
	size_t n_rcpts;
	struct store_envelope env;
	int truncated, headers_only;
	enum item_state state;
	char *error;
	const char *direction;
	int64_t thread_id;
	int duplicate;
	int skipped;                  /* the rules skipped it: metadata row only */
	char *skip_reason;
	const char *reply_note;       /* static (store_result): its reply tag was ignored */
};

struct batch {
	struct item *items;
	size_t n, cap;
	size_t hint;                  /* where the next report probably lands */
};

static pthread_t worker_tid;
static int worker_running;
static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t w_cond = PTHREAD_COND_INITIALIZER;
static int w_wake, w_stop;
static struct spool *w_spool;
static struct ingest *w_ingest;
static unsigned w_generation;
static char w_last_err[1024];     /* the last store error logged, to log each once */
static char *w_db_path;           /* the store file the pipeline has open */

/* the identity of a file the pipeline has open, to notice it deleted or replaced */
struct file_id {
	dev_t dev;
	ino_t ino;
	int known;
};
enum { ID_DB, ID_WAL, ID_SHM, ID_N };
static const char *const id_suffix[ID_N] = { "", "-wal", "-shm" };
static struct file_id w_ids[ID_N];

/* item_clear - free what one item holds */
static void item_clear(struct item *it)
{
	free(it->name);
	free(it->queue_id);
	free(it->message_id);
	free(it->mail_from);
	free(it->client_addr);
	free(it->client_name);
	free(it->auth_authen);
	free(it->daemon_name);
	free(it->reply_tag);
	for (size_t i = 0; i < it->n_rcpts; i++)
		free(it->rcpts[i]);
	free(it->rcpts);
	free(it->error);
	free(it->skip_reason);
	memset(it, 0, sizeof *it);
}

/* batch_clear - free every item, keep the array */
static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		item_clear(&b->items[i]);
	b->n = 0;
	b->hint = 0;
}

/* dup_or_null - strdup that keeps NULL */
static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* item_fill - copy the envelope of a spooled message into the item */
static void item_fill(struct item *it, const char *name, const struct spool_msg *m)
{
	const struct spool_env *e = &m->env;
	it->name = xstrdup(name);
	it->queue_id = dup_or_null(e->queue_id);
	if (e->message_id && e->message_id[0] == '<')	/* logged as <id> */
		it->message_id = xstrndup(e->message_id + 1, strcspn(e->message_id + 1, ">"));
	else
		it->message_id = dup_or_null(e->message_id);
	it->mail_from = dup_or_null(e->mail_from);
	it->client_addr = dup_or_null(e->client_addr);
	it->client_name = dup_or_null(e->client_name);
	it->auth_authen = dup_or_null(e->auth_authen);
	it->daemon_name = dup_or_null(e->daemon_name);
	it->reply_tag = dup_or_null(e->reply_tag);
	it->rcpts = xcalloc(e->n_rcpts ? e->n_rcpts : 1, sizeof *it->rcpts);
	for (size_t i = 0; i < e->n_rcpts; i++)
		it->rcpts[i] = xstrdup(e->rcpts[i]);
	it->n_rcpts = e->n_rcpts;
	it->truncated = e->truncated;
	it->headers_only = e->headers_only;
	it->env = (struct store_envelope){
		.mail_from = it->mail_from,
		.rcpts = (const char *const *)it->rcpts,
		.n_rcpts = it->n_rcpts,
		.queue_id = it->queue_id,
		.client_addr = it->client_addr,
		.client_name = it->client_name,
		.auth_authen = it->auth_authen,
		.daemon_name = it->daemon_name,
		.arrival = e->arrival,
		.reply_tag = it->reply_tag,
	};
}

/* find_item - the batch item whose spool name is ORIGIN, or NULL */
static struct item *find_item(struct batch *b, const char *origin)
{
	if (!origin)
		return NULL;
	for (size_t k = 0; k < b->n; k++) {
		size_t i = (b->hint + k) % b->n;
		if (strcmp(b->items[i].name, origin) == 0) {
			b->hint = i + 1;
			return &b->items[i];
		}
	}
	return NULL;
}

/* on_outcome - the pipeline reports one message: remember what became of it */
static void on_outcome(const struct ingest_outcome *o, void *arg)
{
	struct item *it = find_item(arg, o->origin);
	if (!it)
		return;
	if (o->error) {
		it->state = ITEM_FAILED;
		free(it->error);
		it->error = xstrdup(o->error);
		return;
	}
	it->state = ITEM_STORED;
	it->direction = milter_direction_name((int)o->direction);
	it->thread_id = o->thread_id;
	it->duplicate = o->duplicate;
	it->skipped = o->skipped;
	free(it->skip_reason);
	it->skip_reason = o->skipped && o->skip_reason ? xstrdup(o->skip_reason) : NULL;
	it->reply_note = o->reply_note;
	if (o->message_id) {	/* the parser's normalised id, the same for every copy */
		free(it->message_id);
		it->message_id = xstrdup(o->message_id);
	}
}

static struct batch w_batch;

/* stop_requested - has milter_worker_stop() been called? */
static int stop_requested(void)
{
	pthread_mutex_lock(&w_lock);
	int s = w_stop;
	pthread_mutex_unlock(&w_lock);
	return s;
}

/*
 * wait_until - sleep until DEADLINE (CLOCK_REALTIME), a stop, or, when
 * WAKEABLE, the news of a new message; returns 1 when stopping
 */
static int wait_until(const struct timespec *deadline, int wakeable)
{
	pthread_mutex_lock(&w_lock);
	while (!w_stop && !(wakeable && w_wake))
		if (pthread_cond_timedwait(&w_cond, &w_lock, deadline) == ETIMEDOUT)
			break;
	w_wake = 0;
	int s = w_stop;
	pthread_mutex_unlock(&w_lock);
	return s;
}

/* nap - wait up to SECONDS for a wake-up or stop; returns 1 when stopping */
static int nap(int seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	return wait_until(&ts, 1);
}

/* gather - a short pause so that one transaction takes many messages; 1 when stopping */
static int gather(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += WORKER_GATHER_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return wait_until(&ts, 0);
}

/* log_item - the one line per message */
static void log_item(const struct item *it)
{
	const char *q = it->queue_id && *it->queue_id ? it->queue_id : "NOQUEUE";
	const char *mid = it->message_id ? it->message_id : "";
	const char *lt = it->message_id ? "<" : "", *gt = it->message_id ? ">" : "";
	const char *cut = it->headers_only ? " (headers only: spool was full)" :
			  it->truncated ? " (truncated)" : "";
	if (it->state == ITEM_FAILED) {
		msg_warn("%s: message-id=%s%s%s failed: %s; moved to failed/%s", q, lt, mid, gt,
			 it->error ? it->error : "unknown error", it->name);
	} else if (it->duplicate) {
		msg_info("%s: message-id=%s%s%s direction=%s skipped: already stored, envelope added; "
			 "thread=%" PRId64, q, lt, mid, gt, it->direction, it->thread_id);
	} else if (it->skipped) {
		msg_info("%s: message-id=%s%s%s direction=%s skipped: %s", q, lt, mid, gt,
			 it->direction, it->skip_reason ? it->skip_reason : "by the rules");
	} else {
		msg_info("%s: message-id=%s%s%s direction=%s logged%s; thread=%" PRId64, q, lt, mid,
			 gt, it->direction, cut, it->thread_id);
	}
	if (it->state != ITEM_FAILED && it->reply_note)
		msg_warn("%s: message-id=%s%s%s: %s (tag %s)", q, lt, mid, gt, it->reply_note,
			 it->reply_tag ? it->reply_tag : "");
}

/* file_id_take - remember the identity of PATH SUFFIX in ID (unknown when absent) */
static void file_id_take(struct file_id *id, const char *path, const char *suffix)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof p, "%s%s", path, suffix);
	id->known = stat(p, &st) == 0;
	id->dev = id->known ? st.st_dev : 0;
	id->ino = id->known ? st.st_ino : 0;
}

/*
 * file_id_same - 1 when PATH SUFFIX is still the file ID names (or ID is
 * unknown and the file is still absent; one made later is taken then), 0
 * when it was deleted or replaced
 */
static int file_id_same(struct file_id *id, const char *path, const char *suffix)
{
	char p[4096];
	struct stat st;
	int here;

	snprintf(p, sizeof p, "%s%s", path, suffix);
	here = stat(p, &st) == 0;
	if (!id->known) {
		if (here)
			*id = (struct file_id){ st.st_dev, st.st_ino, 1 };
		return 1;
	}
	return here && st.st_dev == id->dev && st.st_ino == id->ino;
}

/* open_pipeline - (re)open the pipeline with the current configuration; 0 or a store_err */
static int open_pipeline(char *err, size_t errlen)
{
	struct milter_cfg *cfg = milter_cfg_get();
	int rc = ingest_open(&cfg->conf, on_outcome, &w_batch, &w_ingest, err, errlen);
	w_generation = cfg->generation;
	free(w_db_path);
	w_db_path = NULL;
	if (rc == STORE_OK && cfg->conf.database) {
		w_db_path = xstrdup(cfg->conf.database);
		for (int k = 0; k < ID_N; k++)
			file_id_take(&w_ids[k], w_db_path, id_suffix[k]);
		if (!w_ids[ID_DB].known) {
			free(w_db_path);
			w_db_path = NULL;
		}
	}
	milter_cfg_put(cfg);
	if (rc != STORE_OK) {
		w_ingest = NULL;
		snprintf(w_last_err, sizeof w_last_err, "%s", err);
	}
	return rc;
}

/*
 * store_file_gone - 1 (and a warning) when a file of the open store was
 * deleted or replaced: the database file, or its -wal or -shm.  What was
 * committed into a -wal deleted under the connection lives only in the
 * deleted file the connection still holds: it is first copied into the
 * database file through that connection (a checkpoint), which saves it
 * while the database file is still the one open.  Either way the caller
 * keeps the current batch's spool files and reopens the store.
 */
static int store_file_gone(void)
{
	char err[1024];
	int k;

	if (!w_ingest || !w_db_path)
		return 0;
	for (k = 0; k < ID_N && file_id_same(&w_ids[k], w_db_path, id_suffix[k]); k++)
		;
	if (k == ID_N)
		return 0;
	if (k == ID_DB) {
		msg_warn("store file %s was removed or replaced: opening it again; the spool keeps "
			 "what was not stored in it", w_db_path);
		return 1;
	}
	msg_warn("store file %s%s was removed or replaced under crmilter: copying what it held"
		 " into %s, then opening the store again; the spool keeps the messages of the"
		 " batch in hand", w_db_path, id_suffix[k], w_db_path);
	if (store_checkpoint(ingest_store(w_ingest), err, sizeof err) != STORE_OK)
		msg_warn("store %s: saving the write-ahead log failed: %s; the messages committed"
			 " since its last checkpoint may be lost: check the store (crmctl status)",
			 w_db_path, err);
	else
		msg_info("store %s: the write-ahead log was saved into the database file", w_db_path);
	return 1;
}

/* close_pipeline - drop the pipeline (and anything queued in it) */
static void close_pipeline(void)
{
	ingest_close(w_ingest);
	w_ingest = NULL;
}

/* monotonic_ms - milliseconds of CLOCK_MONOTONIC (no wall clock: it may jump) */
static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * run_batch - ingest files [*pos, ...) of the listing, at most max of them,
 * and no more once WORKER_BATCH_MS have gone into parsing them
 * Advances *pos past the files handled.  Returns STORE_OK, or the store
 * error class that stopped the batch (files stay in new/).
 */
static int run_batch(const struct spool_list *l, size_t *pos, size_t max)
{
	char err[1024];
	size_t bytes = 0, start = *pos, i;
	int64_t began = monotonic_ms();
	int rc = STORE_OK;

	batch_clear(&w_batch);
	if (w_batch.cap < max) {
		w_batch.items = xrealloc(w_batch.items, max * sizeof *w_batch.items);
		memset(w_batch.items, 0, max * sizeof *w_batch.items);
		w_batch.cap = max;
	}
	for (i = start; i < l->n && w_batch.n < max; i++) {
		if (w_batch.n > 0 && (bytes + l->sizes[i] > WORKER_BATCH_BYTES ||
				      monotonic_ms() - began >= WORKER_BATCH_MS))
			break;
		struct spool_msg m;
		if (spool_read(w_spool, SPOOL_NEW, l->names[i], &m, err, sizeof err) < 0) {
			if (errno == EINVAL) {
				msg_warn("NOQUEUE: %s; moved to failed/%s", err, l->names[i]);
				if (spool_fail(w_spool, l->names[i], err) < 0)
					msg_warn("%s: cannot move to failed/: %m", l->names[i]);
			} else if (errno != ENOENT) {
				msg_warn("%s", err);
			}
			continue;
		}
		struct item *it = &w_batch.items[w_batch.n++];
		item_fill(it, l->names[i], &m);
		struct ingest_msg im = {
			.raw = m.raw,
			.len = m.raw_len,
			.origin = it->name,
			.fallback_date = m.env.arrival,
			.source = STORE_SRC_MILTER,
			.env = &it->env,
			.originated = m.env.originated,
			.truncated = m.env.truncated || m.env.headers_only,
		};
		bytes += m.raw_len;
		rc = ingest_add(w_ingest, &im, err, sizeof err);
		spool_msg_free(&m);
		if (rc != STORE_OK)
			break;
	}
	*pos = i;
	if (rc == STORE_OK)
		rc = ingest_flush(w_ingest, err, sizeof err);
	if (rc == STORE_OK && store_file_gone()) {
		/* committed into a file nobody will open again: the files stay in new/ */
		*pos = start;
		close_pipeline();
		batch_clear(&w_batch);
		return STORE_EIO;
	}
	if (rc != STORE_OK) {
		msg_warn("store %s: %s: %zu spooled message%s wait in the spool", store_strerror(rc),
			 err, w_batch.n, w_batch.n == 1 ? "" : "s");
		if (rc == STORE_EINVAL && w_batch.n == 1) {
			/* this one message is what the store refuses */
			struct item *it = &w_batch.items[0];
			it->state = ITEM_FAILED;
			it->error = xstrdup(err);
		} else {
			*pos = start;
			close_pipeline();
			batch_clear(&w_batch);
			return rc;
		}
	}
	for (size_t k = 0; k < w_batch.n; k++) {
		struct item *it = &w_batch.items[k];
		if (it->state == ITEM_PENDING) {
			it->state = ITEM_FAILED;
			it->error = xstrdup("the pipeline did not report this message");
		}
		log_item(it);
		if (it->state == ITEM_STORED ? spool_done(w_spool, it->name) < 0 :
		    spool_fail(w_spool, it->name, it->error) < 0)
			msg_warn("%s: cannot remove from new/: %m", it->name);
	}
	if (rc == STORE_EINVAL)
		close_pipeline();	/* reopen clean after a refused message */
	batch_clear(&w_batch);
	return STORE_OK;
}

/*
 * set_idle - run this thread only when a CPU is idle (SCHED_IDLE), or, with
 * idle 0, as an ordinary thread at WORKER_NICE.  Logging can wait; the
 * MTA's callbacks cannot.  Changes are logged; failures only at debug.
 */
static void set_idle(int idle)
{
	static int current = -1;
	struct sched_param sp = { 0 };
	if (idle == current)
		return;
	if (pthread_setschedparam(pthread_self(), idle ? SCHED_IDLE : SCHED_OTHER, &sp) != 0) {
		msg_debug("worker: cannot change scheduling policy");
		return;
	}
	if (current >= 0)
		msg_info(idle ? "spool caught up: the worker runs at idle priority again"
			      : "spool backing up: the worker leaves idle priority");
	if (!idle)
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE);
	current = idle;
}

/* backed_up - L's oldest file has waited WORKER_LAG_S or more */
static int backed_up(const struct spool_list *l)
{
	if (l->n == 0)
		return 0;
	return time(NULL) - l->mtimes[0] >= WORKER_LAG_S;
}

/*
 * note_store_change - after a reload, say so when the store itself
 * changes (Database names another file); the pipeline is rebuilt either
 * way, to take the new rules and settings, and that is not news
 */
static void note_store_change(void)
{
	struct milter_cfg *cfg = milter_cfg_get();
	const char *next = cfg->conf.database ? cfg->conf.database : "";

	if (w_db_path && strcmp(w_db_path, next) != 0)
		msg_info("Database changed: closing %s, opening %s", w_db_path, next);
	else
		msg_debug("configuration reloaded: ingest pipeline rebuilt");
	milter_cfg_put(cfg);
}

/* worker_main - the thread: wait, list, ingest, back off */
static void *worker_main(void *arg)
{
	char err[1024];
	int backoff = 0, single = 0;
	size_t limit = WORKER_FIRST_BATCH;	/* doubles with each batch committed */
	int was_empty = 0;	/* new/ was empty last time: a wake-up is fresh mail, let it gather */
	time_t last_recount = time(NULL);
	(void)arg;
	/* Linux: nice applies to this thread only */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE) < 0)
		msg_debug("worker: setpriority: %m");
	set_idle(1);

	for (;;) {
		if (nap(backoff ? backoff : WORKER_POLL_S) || (!backoff && was_empty && gather()))
			break;
		if (w_ingest && w_generation != milter_cfg_generation()) {
			note_store_change();
			close_pipeline();
		}
		if (store_file_gone())
			close_pipeline();
		if (!w_ingest) {
			char before[sizeof w_last_err];
			snprintf(before, sizeof before, "%s", w_last_err);
			int rc = open_pipeline(err, sizeof err);
			if (rc != STORE_OK) {
				if (strcmp(err, before) != 0)
					msg_warn("store %s: %s: messages wait in the spool; retrying",
						 store_strerror(rc), err);
				backoff = backoff ? (backoff * 2 > WORKER_BACKOFF_MAX ? WORKER_BACKOFF_MAX :
						     backoff * 2) : 1;
				continue;
			}
			if (w_last_err[0])
				msg_info("store open again: ingesting the spool");
			w_last_err[0] = '\0';
		}
		struct spool_list l;
		if (spool_list(w_spool, SPOOL_NEW, &l, err, sizeof err) < 0) {
			msg_warn("%s", err);
			backoff = WORKER_POLL_S;
			continue;
		}
		set_idle(!backed_up(&l));
		was_empty = l.n == 0;
		size_t pos = 0;
		int rc = STORE_OK;
		while (pos < l.n && rc == STORE_OK) {
			size_t before = pos;
			rc = run_batch(&l, &pos, single ? 1 : limit);
			if (rc == STORE_OK && limit < INGEST_BATCH_MESSAGES)
				limit = limit * 2 < INGEST_BATCH_MESSAGES ? limit * 2 : INGEST_BATCH_MESSAGES;
			if (rc == STORE_EINVAL) {
				/* the store refused the batch: find the culprit one by one */
				single = INGEST_BATCH_MESSAGES;
				rc = open_pipeline(err, sizeof err);
				continue;
			}
			if (single && pos > before)
				single--;
			if (stop_requested())
				break;
		}
		spool_list_free(&l);
		if (rc != STORE_OK) {
			limit = WORKER_FIRST_BATCH;
			backoff = backoff ? (backoff * 2 > WORKER_BACKOFF_MAX ? WORKER_BACKOFF_MAX :
					     backoff * 2) : 1;
			continue;
		}
		backoff = 0;
		milter_purge_maybe();	/* Retention: at most daily, off the callbacks (purge.c) */
		if (time(NULL) - last_recount >= WORKER_RECOUNT_S) {
			spool_recount(w_spool);
			last_recount = time(NULL);
		}
		if (stop_requested())
			break;
		/* more may have arrived while we worked: look again at once */
		pthread_mutex_lock(&w_lock);
		if (l.n > 0)
			w_wake = 1;
		pthread_mutex_unlock(&w_lock);
	}
	close_pipeline();
	free(w_db_path);
	w_db_path = NULL;
	batch_clear(&w_batch);
	free(w_batch.items);
	w_batch.items = NULL;
	w_batch.cap = 0;
	return NULL;
}

/* milter_worker_open - see milter_int.h */
int milter_worker_open(char *err, size_t errlen)
{
	if (w_ingest)
		return STORE_OK;
	return open_pipeline(err, errlen);
}

/* milter_worker_start - see milter_int.h */
int milter_worker_start(struct spool *sp)
{
	w_spool = sp;
	w_stop = 0;
	w_wake = 1;		/* drain what a previous run left */
	int rc = pthread_create(&worker_tid, NULL, worker_main, NULL);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	worker_running = 1;
	return 0;
}

/* milter_worker_wake - see milter_int.h */
void milter_worker_wake(void)
{
	pthread_mutex_lock(&w_lock);
	w_wake = 1;
	pthread_cond_signal(&w_cond);
	pthread_mutex_unlock(&w_lock);
}

/* milter_worker_stop - see milter_int.h */
void milter_worker_stop(void)
{
	if (!worker_running)
		return;
	pthread_mutex_lock(&w_lock);
	w_stop = 1;
	pthread_cond_signal(&w_cond);
	pthread_mutex_unlock(&w_lock);
	pthread_join(worker_tid, NULL);
	worker_running = 0;
}
