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

/*
 * ingest_queue - decide on a message (RAW and ORIGIN, its copies; REC,
 * from ingest_parse) and queue it, writing the batch first when it is full.  Returns 0: RAW,
 * ORIGIN and REC are the queue's (or freed, the message reported failed
 * when one of them is NULL).  Returns a store_err class when writing the
 * batch failed: nothing was taken, and the call can be made again.
 */
int ingest_queue(struct ingest *in, const struct ingest_msg *msg, char *raw, char *origin,
		 struct mail_record *rec, char *err, size_t errlen);

#endif
