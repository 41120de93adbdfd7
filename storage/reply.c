/*
 * reply.c - reply tags: the address that puts a reply written from crmview
 * on the thread it answers, whatever the mail client keeps of its headers
 *
 * crmview's Reply links carry a Bcc to ReplyAddress with a tag,
 * "crm-reply+r<ID>.<MAC>@example.com": ID is the messages row answered,
 * MAC the first STORE_REPLY_MAC_HEX hex digits of HMAC-SHA256 of "r<ID>"
 * under a random key that lives in the store (the secrets table, made by
 * schema version 7).  crmilter takes the tagged recipient out of the
 * envelope (it is never delivered, and never stored as a participant) and
 * hands the tag to the store, which files the message as an answer to
 * message ID: when the message has no In-Reply-To or References of its
 * own, ID's Message-ID stands in for its In-Reply-To, so threading, the
 * container table and re-threading treat it as any other reply.
 *
 * Trust: only mail our side sent (authenticated, the submission service or
 * InternalHosts, as the milter judged from the envelope) may carry a tag;
 * the store refuses it on inbound mail.  The MAC makes a tag as hard to
 * make up as the Message-ID it stands for, so a tag gives a colleague no
 * thread he could not reach with an In-Reply-To.
 *
 * Public (store.h): store_reply_match.  For the rest of storage/
 * (store_int.h): store_reply_key and store_reply_tag_of (the thread page's
 * tags, view_reply.c), store_reply_parent (ingest.c).
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"


/* store_reply_match - see store.h */
int store_reply_match(const char *reply_address, const char *rcpt, const char **tag,
		      size_t *taglen)
{
	const char *at, *rat;
	size_t local;

	*tag = NULL;
	*taglen = 0;
	if (!reply_address || !rcpt || !(at = strchr(reply_address, '@')) ||
	    !(rat = strrchr(rcpt, '@')) || g_ascii_strcasecmp(at, rat) != 0)
		return 0;
	local = (size_t)(at - reply_address);
	if (g_ascii_strncasecmp(rcpt, reply_address, local) != 0)
		return 0;
	if (rcpt + local == rat) {
		*tag = rat;	/* the bare address: an empty tag */
		return 1;
	}
	if (rcpt[local] != '+')
		return 0;
	*tag = rcpt + local + 1;
	*taglen = (size_t)(rat - *tag);
	return 1;
}

/* store_reply_key - see store_int.h */
int store_reply_key(struct store *st, unsigned char key[32])
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "SELECT value FROM secrets WHERE name = 'reply-tag'",
				    -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "reading the reply key");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32) {
		memcpy(key, sqlite3_column_blob(s, 0), 32);
		sqlite3_finalize(s);
		return STORE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlerr(st, rc, "reading the reply key");
	return store_fail(st, STORE_EINVAL, "%s: the store has no reply key", st->path);
}

/* store_reply_tag_of - see store_int.h */
void store_reply_tag_of(const unsigned char key[32], int64_t id, char out[STORE_REPLY_TAG_MAX])
{
	char name[24];
	gchar *mac;

	snprintf(name, sizeof name, "r%" PRId64, id);
	mac = g_compute_hmac_for_data(G_CHECKSUM_SHA256, key, 32, (const guchar *)name, strlen(name));
	snprintf(out, STORE_REPLY_TAG_MAX, "%s.%.*s", name, STORE_REPLY_MAC_HEX, mac);
	g_free(mac);
}

/* tag_id - the message id a well-formed TAG names, or 0 */
static int64_t tag_id(const char *tag)
{
	char *end;
	long long id;

	if (tag[0] != 'r' && tag[0] != 'R')
		return 0;
	id = strtoll(tag + 1, &end, 10);
	if (id <= 0 || end == tag + 1 || *end != '.' || strlen(end + 1) != STORE_REPLY_MAC_HEX)
		return 0;
	return (int64_t)id;
}

/* equal_ci - TAG's MAC against WANT's, case-insensitive, in time that does not depend on them */
static int equal_ci(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(g_ascii_tolower(a[i]) ^ g_ascii_tolower(b[i]));
	return d == 0;
}

/* msgid_of - the Message-ID of messages row ID in a thread, malloc'd, into *out (NULL: none) */
static int msgid_of(struct store *st, int64_t id, char **out)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "SELECT msgid FROM messages"
				    " WHERE id = ?1 AND thread_id IS NOT NULL", -1, &s, NULL);

	*out = NULL;
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "reading the message a reply tag names");
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_text(s, 0) &&
	    !(*out = strdup((const char *)sqlite3_column_text(s, 0))))
		rc = SQLITE_NOMEM;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlerr(st, rc, "reading the message a reply tag names");
	return STORE_OK;
}

/* store_reply_parent - see store_int.h */
int store_reply_parent(struct store *st, const struct store_item *it, char **msgid,
		       const char **note)
{
	const char *tag = it->env ? it->env->reply_tag : NULL;
	unsigned char key[32];
	char want[STORE_REPLY_TAG_MAX];
	int64_t id;
	int rc;

	*msgid = NULL;
	*note = NULL;
	if (!tag)
		return STORE_OK;
	if (it->direction == STORE_INBOUND) {
		*note = "reply tag on mail from outside: ignored";
		return STORE_OK;
	}
	if (!(id = tag_id(tag))) {
		*note = "reply tag malformed: ignored";
		return STORE_OK;
	}
	if ((rc = store_reply_key(st, key)) != STORE_OK)
		return rc;
	store_reply_tag_of(key, id, want);
	explicit_bzero(key, sizeof key);
	if (strlen(want) != strlen(tag) || !equal_ci(want, tag, strlen(want))) {
		*note = "reply tag not made by this store: ignored";
		return STORE_OK;
	}
	if ((rc = msgid_of(st, id, msgid)) != STORE_OK)
		return rc;
	if (!*msgid)
		*note = "reply tag names a message no longer stored: ignored";
	else if (it->rec->in_reply_to || it->rec->n_references) {
		free(*msgid);	/* its own headers thread it */
		*msgid = NULL;
	}
	return STORE_OK;
}
