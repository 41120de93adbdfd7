/*
 * ingest_int.h - what the files of ingest/ share and nothing else uses
 */
#ifndef CRM_INGEST_INT_H
#define CRM_INGEST_INT_H

#include "ingest.h"

/*
 * ingest_copy - MSG's bytes into *raw and its origin into *origin
 * (malloc); either is NULL when memory ran out (ingest_queue reports it)
 */
void ingest_copy(const struct ingest_msg *msg, char **raw, char **origin);

/*
 * ingest_parse - parse MSG's bytes; returns the record (mail_record_free())
 * or NULL (an empty message, no memory).  Safe on any thread: it touches
 * no store.
 */
struct mail_record *ingest_parse(const struct ingest_msg *msg);

/* a raw source compressed on a parsing thread (store_zctx_compress) */
struct ingest_frame {
	void *z;                     /* malloc'd frame, or NULL: none */
	size_t len;
	int64_t dict;                /* store_zdict_id of the dictionary it was made with */
};

/*
 * ingest_queue - decide on a message (RAW and ORIGIN, its copies; REC,
 * from ingest_parse; FRAME, RAW compressed already, may be NULL) and queue
 * it, writing the batch first when it is full.  Returns 0: RAW, ORIGIN,
 * REC and FRAME's bytes are the queue's (or freed, the message reported
 * failed when one of the first three is NULL).  Returns a store_err class
 * when writing the batch failed: nothing was taken, and the call can be
 * made again.
 */
int ingest_queue(struct ingest *in, const struct ingest_msg *msg, char *raw, char *origin,
		 struct mail_record *rec, struct ingest_frame *frame, char *err, size_t errlen);

/*
 * ingest_zdict - a reference to the store's compression dictionary for
 * parsing threads (store_zdict_put it), or NULL: none yet, or the store
 * does not keep whole raw sources.  On the caller's thread only.
 */
struct store_zdict *ingest_zdict(struct ingest *in);

#endif
