/*
 * ingest.c - parse, decide and store messages in batches
 *
 * Each queued message keeps a private copy of its raw bytes, its parsed
 * record and the rules' decisions (converted to the store's struct
 * store_decision) until its batch is written.  A failed batch write leaves
 * the queue intact so the caller can retry after a backoff; nothing is
 * lost.
 *
 * The rules in use sit behind a mutex: a reload swaps the pointer, and a
 * decision keeps a reference to the rules that made it.  The last rules
 * loaded well in this process are remembered, so that reopening the
 * pipeline with a bad file (crmilter after SIGHUP) keeps them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest_int.h"

/* the rules' decisions in the store's terms; everything points into dec */
struct conv {
	struct rules_decision dec;
	struct store_decision sd;
	struct store_person *people;
	struct store_deal *deals;
	struct store_rule *rules;
	size_t n_rules;
	char *inside;
};

struct queued {
	char *raw;
	size_t len;
	void *raw_z;                 /* raw compressed by a parsing thread, or NULL */
	char *origin;
	struct mail_record *rec;
	struct store_item item;
	struct conv conv;
};

/* the last rules that loaded well in this process, by path */
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rules *last_good;
static char *last_path;

struct ingest {
	struct store *store;
	pthread_mutex_t lock;        /* guards rules */
	struct rules *rules;
	char *rules_path;            /* RulesFile, or NULL */
	int rules_given;             /* RulesFile was set: it must load */
	int raw_full;                /* the store keeps whole raw sources */
	int train_early;             /* offer batches to store_zdict_offer */
	ingest_report_fn report;
	void *arg;
	struct queued q[INGEST_BATCH_MESSAGES];
	struct store_result results[INGEST_BATCH_MESSAGES];
	size_t n;
	size_t bytes;
};

/* raw_mode - the store's raw mode for a configuration value */
static enum store_raw raw_mode(enum conf_raw r)
{
	switch (r) {
	case CONF_RAW_HEADERS: return STORE_RAW_HEADERS;
	case CONF_RAW_NONE:    return STORE_RAW_NONE;
	case CONF_RAW_FULL:    break;
	}
	return STORE_RAW_FULL;
}

/*
 * rules_source - the rules file to load: PATH, or NULL for the built-in
 * rules when PATH is not REQUIRED and nothing is there.  A file that is named
 * (RulesFile set), or that was read before, must load: it is never replaced
 * by the built-in rules, whose team-wide visibility would publish what the
 * file keeps private.
 */
static const char *rules_source(const char *path, int required)
{
	if (!path || !*path)
		return NULL;
	if (required || access(path, F_OK) == 0 || errno != ENOENT)
		return path;
	return NULL;
}

/*
 * named_but_unreadable - 1, with "CONF:LINE: RulesFile PATH: reason" in
 * err, when CONF sets a RulesFile that cannot be opened or is not a
 * regular file (a FIFO, a folder); else 0
 */
static int named_but_unreadable(const struct conf *conf, char *err, size_t errlen)
{
	struct stat sb;
	const char *why;
	unsigned line;

	if (!conf->rules_given || !conf->rules)
		return 0;
	if (access(conf->rules, R_OK) != 0 || stat(conf->rules, &sb) != 0)
		why = strerror(errno);
	else if (!S_ISREG(sb.st_mode))
		why = read_file_error(EINVAL);
	else
		return 0;
	line = conf_key_line(conf->path, "RulesFile", "");
	snprintf(err, errlen, "%s:%u: RulesFile %s: %s (the built-in rules are never used in "
		 "place of a rules file that is set)", conf->path ? conf->path : CONF_DEFAULT_PATH,
		 line, conf->rules, why);
	return 1;
}

/* ingest_load_rules - see ingest.h */
int ingest_load_rules(const struct conf *conf, struct rules **out, char *err, size_t errlen)
{
	if (named_but_unreadable(conf, err, errlen)) {
		*out = NULL;
		return -1;
	}
	return rules_load(rules_source(conf->rules, conf->rules_given), out, err, errlen);
}

/* ingest_rules_lint - see ingest.h */
int ingest_rules_lint(const struct conf *conf, const struct rules *r, struct store *st,
		      char **out)
{
	struct rules_lint_ctx ctx = {
		.own_domains = (const char *const *)conf->domains.v,
		.n_own_domains = conf->domains.n,
	};
	char err[256];
	json_t *deals = st ? store_deals(st, err, sizeof err) : NULL, *d;
	const char **keys = calloc(json_array_size(deals) + 1, sizeof *keys);
	size_t i;
	int n;

	json_array_foreach(deals, i, d)
		if (keys && json_is_string(json_object_get(d, "key")))
			keys[ctx.n_deal_keys++] = json_string_value(json_object_get(d, "key"));
	ctx.deal_keys = keys;
	n = keys ? rules_lint(r, &ctx, out) : -1;
	free(keys);
	json_decref(deals);
	return n;
}

/* ingest_rules_describe - see ingest.h */
const char *ingest_rules_describe(const struct rules *r, char *buf, size_t len)
{
	size_t n = rules_count(r);

	if (rules_path(r))
		snprintf(buf, len, "%s, sha256 %s, %zu rule%s", rules_path(r), rules_sha256(r), n,
			 n == 1 ? "" : "s");
	else
		snprintf(buf, len, "the built-in rules (no rules file)");
	return buf;
}

/* same_path - two optional paths are equal */
static int same_path(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* remember - R loaded well from PATH: the rules to fall back to */
static void remember(struct rules *r, const char *path)
{
	char *p = path ? strdup(path) : NULL;

	pthread_mutex_lock(&last_lock);
	rules_unref(last_good);
	free(last_path);
	last_good = rules_ref(r);
	last_path = p;
	pthread_mutex_unlock(&last_lock);
}

/* fallback - the last good rules of PATH (a reference), or NULL */
static struct rules *fallback(const char *path)
{
	struct rules *r = NULL;

	pthread_mutex_lock(&last_lock);
	if (last_good && same_path(last_path, path))
		r = rules_ref(last_good);
	pthread_mutex_unlock(&last_lock);
	return r;
}

/* fallback_of - 1 when this process loaded PATH well before */
static int fallback_of(const char *path)
{
	int known;

	pthread_mutex_lock(&last_lock);
	known = last_good && path && same_path(last_path, path);
	pthread_mutex_unlock(&last_lock);
	return known;
}

/* warn_kept - log each error of ERR (one a line), then that the old rules stay */
static void warn_kept(const char *path, const char *err)
{
	const char *p = err, *nl;

	for (; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		msg_warn("%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
	}
	msg_warn("%s: has errors: keeping the rules in use", path ? path : RULES_BUILTIN_FILE);
}

/*
 * open_rules - the rules of CONF; on a bad file, the ones this process
 * loaded well before from the same path (the error is logged)
 */
static struct rules *open_rules(const struct conf *conf, char *err, size_t errlen)
{
	const char *path = rules_source(conf->rules, conf->rules_given || fallback_of(conf->rules));
	struct rules *r = NULL;

	if (!named_but_unreadable(conf, err, errlen) && rules_load(path, &r, err, errlen) == 0) {
		remember(r, path);
		return r;
	}
	r = fallback(path);
	if (r)
		warn_kept(path, err);
	return r;
}

/* ingest_open - see ingest.h */
int ingest_open(const struct conf *conf, ingest_report_fn report, void *arg,
		struct ingest **out, char *err, size_t errlen)
{
	struct store_opts opts = {
		.path = conf->database,
		.raw = raw_mode(conf->raw),
		.busy_timeout_ms = conf->busy_timeout_ms,
		.own_domains = (const char *const *)conf->domains.v,
		.n_own_domains = conf->domains.n,
	};
	opts.owner_set = conf_store_owner(conf, &opts.owner_uid, &opts.owner_gid);
	mail_init();
	if (conf->freemail && mail_freemail_load(conf->freemail, err, errlen) < 0)
		return STORE_EINVAL;
	struct ingest *in = calloc(1, sizeof *in);
	if (!in) {
		snprintf(err, errlen, "out of memory");
		return STORE_EINVAL;
	}
	in->rules = open_rules(conf, err, errlen);
	in->rules_path = conf->rules ? strdup(conf->rules) : NULL;
	in->rules_given = conf->rules_given;
	in->raw_full = conf->raw == CONF_RAW_FULL;
	if (!in->rules || (conf->rules && !in->rules_path)) {
		rules_unref(in->rules);
		free(in->rules_path);
		free(in);
		return STORE_EINVAL;
	}
	pthread_mutex_init(&in->lock, NULL);
	int rc = store_open(&opts, &in->store, err, errlen);
	if (rc != STORE_OK) {
		ingest_close(in);
		return rc;
	}
	in->report = report;
	in->arg = arg;
	*out = in;
	return STORE_OK;
}

/* ingest_rules - see ingest.h */
struct rules *ingest_rules(struct ingest *in)
{
	struct rules *r;

	pthread_mutex_lock(&in->lock);
	r = rules_ref(in->rules);
	pthread_mutex_unlock(&in->lock);
	return r;
}

/* ingest_reload_rules - see ingest.h */
int ingest_reload_rules(struct ingest *in, char *err, size_t errlen)
{
	const char *path = rules_source(in->rules_path, in->rules_given || rules_path(in->rules));
	struct rules *r, *old;

	if (rules_load(path, &r, err, errlen) < 0)
		return -1;
	remember(r, path);
	pthread_mutex_lock(&in->lock);
	old = in->rules;
	in->rules = r;
	pthread_mutex_unlock(&in->lock);
	rules_unref(old);
	return 0;
}

/* ---- the rules' decisions in the store's terms ---- */

/* conv_rule - a store_rule for provenance P in C's table (NULL for NULL) */
static const struct store_rule *conv_rule(struct conv *c, const struct rules_prov *p)
{
	struct store_rule *r;

	if (!p)
		return NULL;
	r = &c->rules[c->n_rules++];
	*r = (struct store_rule){ p->file, p->line, p->text, p->hash };
	return r;
}

/* conv_free - free a conversion and its decision */
static void conv_free(struct conv *c)
{
	free(c->people);
	free(c->deals);
	free(c->rules);
	free(c->inside);
	rules_decision_free(&c->dec);
	memset(c, 0, sizeof *c);
}

/* conv_people - the people and deals of C->dec into C->sd */
static void conv_people(struct conv *c)
{
	const struct rules_decision *d = &c->dec;

	for (size_t i = 0; i < d->n_people; i++) {
		const struct rules_person *p = &d->people[i];

		c->people[i] = (struct store_person){
			.addr = p->addr, .capture = p->capture, .trusted = p->trusted,
			.capture_rule = conv_rule(c, p->capture_rule),
			.account = p->account, .account_name = p->account_name,
			.account_rule = conv_rule(c, p->account_rule),
		};
	}
	for (size_t i = 0; i < d->n_deals; i++)
		c->deals[i] = (struct store_deal){ d->deals[i].key, conv_rule(c, d->deals[i].rule) };
}

/* conv_fill - C->sd from C->dec; 0, or -1 when memory runs out */
static int conv_fill(struct conv *c)
{
	const struct rules_decision *d = &c->dec;
	struct store_decision *sd = &c->sd;

	c->people = calloc(d->n_people + 1, sizeof *c->people);
	c->deals = calloc(d->n_deals + 1, sizeof *c->deals);
	c->rules = calloc(4 + 2 * d->n_people + d->n_deals, sizeof *c->rules);
	if (d->inside == RULES_INSIDE_TEAM && asprintf(&c->inside, "team:%s", d->team) < 0)
		c->inside = NULL;
	if (!c->people || !c->deals || !c->rules || (d->inside == RULES_INSIDE_TEAM && !c->inside))
		return -1;
	conv_people(c);
	*sd = (struct store_decision){
		.skip = d->log == RULES_SKIP,
		.marked_private = d->log == RULES_PRIVATE,
		.log_reason = d->log_reason,
		.log_rule = conv_rule(c, d->log_rule),
		.people = c->people, .n_people = d->n_people,
		.deals = c->deals, .n_deals = d->n_deals,
		.single_open = conv_rule(c, d->single_open),
		.contacts_rule = conv_rule(c, d->contacts_rule),
		.unassigned = d->unassigned,
		.inside = c->inside ? c->inside : rules_inside_name(d->inside),
		.outside = rules_level_name(d->outside),
		.visibility_reason = d->visibility_reason,
		.visibility_rule = conv_rule(c, d->visibility_rule),
	};
	return 0;
}

/* rules_dir - the rules' direction of a store direction */
static enum rules_direction rules_dir(enum store_direction d)
{
	return d == STORE_OUTBOUND ? RULES_OUTBOUND : d == STORE_INTERNAL ? RULES_INTERNAL
								       : RULES_INBOUND;
}

/* store_internal - rules_input.is_internal for a store */
static int store_internal(const char *addr, void *arg)
{
	return store_is_internal(arg, addr);
}

/* decide - evaluate R on REC into C (and the store form); 0 or -1 (out of memory) */
static int decide(struct rules *r, const struct mail_record *rec, const char *raw, size_t len,
		  enum store_direction dir, const struct store_envelope *env,
		  int (*internal)(const char *, void *), void *arg, struct conv *c)
{
	struct rules_input input = {
		.rec = rec,
		.headers = raw,
		.headers_len = rec->header_len < len ? rec->header_len : len,
		.direction = rules_dir(dir),
		.rcpts = env ? env->rcpts : NULL,
		.n_rcpts = env ? env->n_rcpts : 0,
		.is_internal = internal,
		.arg = arg,
	};

	memset(c, 0, sizeof *c);
	if (rules_eval(r, &input, &c->dec) < 0)
		return -1;
	if (conv_fill(c) < 0) {
		conv_free(c);
		return -1;
	}
	return 0;
}

/* report_failure - tell the caller one message could not be parsed */
static void report_failure(struct ingest *in, const char *origin, const char *why)
{
	struct ingest_outcome o = { .origin = origin, .error = why };
	if (in->report)
		in->report(&o, in->arg);
}

/* drop_queue - free every queued message */
static void drop_queue(struct ingest *in)
{
	for (size_t i = 0; i < in->n; i++) {
		free(in->q[i].raw);
		free(in->q[i].raw_z);
		free(in->q[i].origin);
		mail_record_free(in->q[i].rec);
		conv_free(&in->q[i].conv);
	}
	in->n = 0;
	in->bytes = 0;
}

/*
 * offer - when the caller asked for it (ingest_train_early), offer the
 * queued raw sources to store_zdict_offer before they are written, so
 * that a new store's dictionary is trained from the first messages before
 * any of them is compressed.  Batches are the same whatever the number of
 * parsing threads, so is the dictionary.  Returns STORE_OK or the store's
 * error class.
 */
static int offer(struct ingest *in, char *err, size_t errlen)
{
	const char *srcs[INGEST_BATCH_MESSAGES];
	size_t lens[INGEST_BATCH_MESSAGES];

	if (!in->train_early || !in->raw_full)
		return STORE_OK;
	for (size_t i = 0; i < in->n; i++) {
		srcs[i] = in->q[i].raw;
		lens[i] = in->q[i].len;
	}
	return store_zdict_offer(in->store, srcs, lens, in->n, err, errlen);
}

/* ingest_train_early - see ingest.h */
void ingest_train_early(struct ingest *in)
{
	in->train_early = 1;
}

/* ingest_flush - see ingest.h */
int ingest_flush(struct ingest *in, char *err, size_t errlen)
{
	if (in->n == 0)
		return STORE_OK;
	int rc = offer(in, err, errlen);
	if (rc != STORE_OK)
		return rc;
	struct store_item items[INGEST_BATCH_MESSAGES];
	for (size_t i = 0; i < in->n; i++)
		items[i] = in->q[i].item;
	rc = store_ingest(in->store, items, in->n, in->results, err, errlen);
	if (rc != STORE_OK)
		return rc;
	for (size_t i = 0; i < in->n && in->report; i++) {
		struct ingest_outcome o = {
			.origin = in->q[i].origin,
			.message_id = in->q[i].rec->message_id,
			.direction = in->q[i].item.direction,
			.message_id_row = in->results[i].message_id,
			.thread_id = in->results[i].thread_id,
			.duplicate = in->results[i].duplicate,
			.skipped = in->results[i].skipped,
			.skip_reason = in->results[i].skip_reason ? in->results[i].skip_reason
				       : in->results[i].skipped && in->q[i].conv.dec.log == RULES_SKIP
				       ? in->q[i].conv.dec.log_reason : NULL,
			.reply_note = in->results[i].reply_note,
		};
		in->report(&o, in->arg);
	}
	drop_queue(in);
	return STORE_OK;
}

/* ingest_queue - see ingest_int.h */
int ingest_queue(struct ingest *in, const struct ingest_msg *msg, char *raw, char *origin,
		 struct mail_record *rec, struct ingest_frame *frame, char *err, size_t errlen)
{
	struct ingest_frame none = { 0 };

	if (!frame)
		frame = &none;
	if (in->n == INGEST_BATCH_MESSAGES || in->bytes + msg->len > INGEST_BATCH_BYTES) {
		int rc = ingest_flush(in, err, errlen);
		if (rc != STORE_OK)
			return rc;
	}
	if (!rec || !raw || !origin) {
		report_failure(in, msg->origin, rec || msg->len ? "out of memory" : "empty message");
		goto drop;
	}
	struct queued *q = &in->q[in->n];
	q->raw = raw;
	q->raw_z = frame->z;
	q->len = msg->len;
	q->origin = origin;
	q->rec = rec;
	enum store_direction dir = store_direction_of(in->store, rec, msg->originated);
	struct rules *rules = ingest_rules(in);
	int drc = decide(rules, rec, q->raw, q->len, dir, msg->env, store_internal, in->store,
			 &q->conv);
	rules_unref(rules);
	if (drc < 0) {
		report_failure(in, msg->origin, "out of memory");
		goto drop;
	}
	q->item = (struct store_item){
		.rec = rec,
		.raw = q->raw,
		.raw_len = q->len,
		.raw_z = q->raw_z,
		.raw_zlen = frame->len,
		.raw_zdict = frame->dict,
		.direction = dir,
		.source = msg->source,
		.origin = q->origin,
		.env = msg->env,
		.dec = &q->conv.sd,
	};
	in->n++;
	in->bytes += msg->len;
	return STORE_OK;
drop:
	free(raw);
	free(frame->z);
	free(origin);
	mail_record_free(rec);
	return STORE_OK;
}

/* ingest_zdict - see ingest_int.h */
struct store_zdict *ingest_zdict(struct ingest *in)
{
	return in->raw_full ? store_zdict_get(in->store) : NULL;
}

/* ingest_copy - see ingest_int.h */
void ingest_copy(const struct ingest_msg *msg, char **raw, char **origin)
{
	*raw = malloc(msg->len ? msg->len : 1);
	*origin = strdup(msg->origin ? msg->origin : "");
	if (*raw)
		memcpy(*raw, msg->raw, msg->len);
}

/* ingest_parse - see ingest_int.h */
struct mail_record *ingest_parse(const struct ingest_msg *msg)
{
	struct mail_parse_opts popts = {
		.fallback_date = msg->fallback_date,
		.truncated = msg->truncated,
	};
	struct mail_record *rec = NULL;

	if (!msg->raw || !msg->len || mail_parse(msg->raw, msg->len, &popts, &rec) < 0)
		return NULL;
	return rec;
}

/* ingest_add - see ingest.h */
int ingest_add(struct ingest *in, const struct ingest_msg *msg, char *err, size_t errlen)
{
	char *raw, *origin;
	struct mail_record *rec = ingest_parse(msg);
	int rc;

	ingest_copy(msg, &raw, &origin);
	rc = ingest_queue(in, msg, raw, origin, rec, NULL, err, errlen);
	if (rc != STORE_OK) {
		free(raw);
		free(origin);
		mail_record_free(rec);
	}
	return rc;
}

/* ingest_store - see ingest.h */
struct store *ingest_store(struct ingest *in)
{
	return in->store;
}

/* ingest_close - see ingest.h */
void ingest_close(struct ingest *in)
{
	if (!in)
		return;
	drop_queue(in);
	store_close(in->store);
	rules_unref(in->rules);
	free(in->rules_path);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

/* conf_internal - rules_input.is_internal for a configuration */
static int conf_internal(const char *addr, void *arg)
{
	const char *at = strrchr(addr, '@');

	return at && at[1] && conf_is_own_domain(arg, at + 1);
}

/* ingest_evaluate - see ingest.h */
int ingest_evaluate(const struct conf *conf, struct rules *rules, const char *raw, size_t len,
		    int originated, struct ingest_eval *out, char *err, size_t errlen)
{
	struct conv c;

	memset(out, 0, sizeof *out);
	mail_init();
	if (mail_parse(raw, len, NULL, &out->rec) < 0) {
		snprintf(err, errlen, "%s", len ? "out of memory" : "empty message");
		return -1;
	}
	out->direction = store_direction_for((const char *const *)conf->domains.v, conf->domains.n,
					     out->rec, originated);
	if (decide(rules, out->rec, raw, len, out->direction, NULL, conf_internal, (void *)conf,
		   &c) < 0) {
		snprintf(err, errlen, "out of memory");
		ingest_eval_free(out);
		return -1;
	}
	out->dec = c.dec;
	memset(&c.dec, 0, sizeof c.dec);
	conv_free(&c);
	return 0;
}

/* ingest_eval_free - see ingest.h */
void ingest_eval_free(struct ingest_eval *e)
{
	mail_record_free(e->rec);
	rules_decision_free(&e->dec);
	memset(e, 0, sizeof *e);
}

/* the state of one ingest_apply() */
struct apply {
	struct ingest *in;
	struct rules *rules;
};

/* an item's private part during store_apply() */
struct applied {
	struct mail_record *rec;
	struct conv conv;
};

/* apply_decide - store_apply() callback: parse and evaluate one stored message */
static int apply_decide(const struct store_stored *m, struct store_item *it, void **priv,
			void *arg)
{
	struct apply *a = arg;
	struct applied *p = calloc(1, sizeof *p);

	if (!p || mail_parse(m->raw, m->raw_len, NULL, &p->rec) < 0) {
		free(p);
		return -1;
	}
	if (decide(a->rules, p->rec, m->raw, m->raw_len, m->direction, m->env, store_internal,
		   a->in->store, &p->conv) < 0) {
		mail_record_free(p->rec);
		free(p);
		return -1;
	}
	*it = (struct store_item){ .rec = p->rec, .raw = m->raw, .raw_len = m->raw_len,
				   .direction = m->direction, .env = m->env, .dec = &p->conv.sd };
	*priv = p;
	return 0;
}

/* apply_release - store_apply() callback: free what apply_decide made */
static void apply_release(void *priv, void *arg)
{
	struct applied *p = priv;

	(void)arg;
	if (!p)
		return;
	conv_free(&p->conv);
	mail_record_free(p->rec);
	free(p);
}

/* ingest_apply - see ingest.h */
int ingest_apply(struct ingest *in, int64_t since, int dry_run, json_t **changes, char *err,
		 size_t errlen)
{
	struct apply a = { in, ingest_rules(in) };
	int rc = store_apply(in->store, since, dry_run, apply_decide, apply_release, &a, changes,
			     err, errlen);

	rules_unref(a.rules);
	return rc;
}
