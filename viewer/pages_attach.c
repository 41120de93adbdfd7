/*
 * pages_attach.c - GET /threads/TID/attachments/AID: one attachment's
 * bytes, for download (and under /api/ alike)
 *
 * Public (view_int.h): page_attachment.  The store decides what the user
 * may have (store_view_attachment): nothing when he may not see the
 * thread or the message (404, as the thread page), no bytes when he sees
 * the message below "everything" (403: the page shows him only a count).
 * The bytes go out as Content-Disposition: attachment, with a file name
 * that cannot name a path or break the header (RFC 6266: an ASCII
 * fallback and filename*=UTF-8''...), as application/octet-stream; only
 * a PNG, JPEG, GIF, WebP image or a PDF whose bytes start as such a file
 * does is sent as its type and inline.  Every download carries nosniff and
 * the viewer's CSP with "sandbox", and is written to the access log with
 * the thread, the message, the attachment's position and the user's level.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

#define ASCII_NAME_MAX 150          /* bytes of the fallback file name */

/* the types shown inline, each with how its files start */
static const struct { const char *type, *magic; size_t off, n; } inline_types[] = {
	{ "image/png", "\x89PNG\r\n\x1a\n", 0, 8 },
	{ "image/jpeg", "\xff\xd8\xff", 0, 3 },
	{ "image/gif", "GIF8", 0, 4 },
	{ "image/webp", "WEBP", 8, 4 },
	{ "application/pdf", "%PDF-", 0, 5 },
};

/* inline_type - the safe type A is shown inline as, or NULL: download it */
static const char *inline_type(const struct store_attachment *a)
{
	for (size_t i = 0; i < sizeof inline_types / sizeof inline_types[0]; i++) {
		if (!a->content_type || strcmp(a->content_type, inline_types[i].type) != 0)
			continue;
		if (a->len >= inline_types[i].off + inline_types[i].n &&
		    memcmp(a->data + inline_types[i].off, inline_types[i].magic, inline_types[i].n) == 0)
			return inline_types[i].type;
		return NULL;
	}
	return NULL;
}

/* unsafe_in_name - 1 for the bytes a file name never carries: controls, quotes, path separators */
static int unsafe_in_name(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '/' || c == ':' ||
	       c == ';' || c == '%' || c == '*' || c == '?' || c == '<' || c == '>' || c == '|';
}

/* ascii_name - NAME with unsafe bytes and each non-ASCII character as '_' into OUT */
static void ascii_name(const char *name, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t o = 0;

	for (; *p && o + 1 < outlen; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;           /* a continuation byte: its character is '_' already */
		out[o++] = *p >= 0x80 || unsafe_in_name(*p) ? '_' : (char)*p;
	}
	out[o] = '\0';
	if (out[0] == '.')              /* no hidden file, no ".." */
		out[0] = '_';
}

/* ext_char - 1 for an attr-char of RFC 8187, kept as it is in filename* */
static int ext_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$&+-.^_`|~", c) != NULL;
}

/* utf8_name - NAME percent-encoded for filename*=UTF-8'', unsafe bytes as '_' */
static void utf8_name(struct vbuf *b, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)name;
	char e[3] = { '%', 0, 0 };

	if (*p == '.') {
		vbuf_puts(b, "_");
		p++;
	}
	for (; *p; p++) {
		unsigned char c = unsafe_in_name(*p) ? '_' : *p;

		if (ext_char(c)) {
			vbuf_add(b, (const char *)&c, 1);
		} else {
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			vbuf_add(b, e, 3);
		}
	}
}

/* disposition - the Content-Disposition of A (KIND "inline" or "attachment"); new string */
static char *disposition(const struct store_attachment *a, const char *kind)
{
	const char *name = a->filename && *a->filename ? a->filename : "attachment";
	char fallback[ASCII_NAME_MAX + 1];
	struct vbuf b = { 0 };
	size_t len;

	if (strlen(name) > 4 * ASCII_NAME_MAX)
		name = "attachment";
	ascii_name(name, fallback, sizeof fallback);
	vbuf_printf(&b, "%s; filename=\"%s\"", kind, fallback);
	if (utf8_valid(name, strlen(name))) {
		vbuf_puts(&b, "; filename*=UTF-8''");
		utf8_name(&b, name);
	}
	return vbuf_take(&b, &len);
}

/* refuse - the answer when A (NULL: none the user may know of) has no bytes for him */
static void refuse(struct view_req *r, const struct store_attachment *a)
{
	if (!a) {
		view_error(r, 404, "There is no such attachment.");
		return;
	}
	switch (a->state) {
	case STORE_ATTACH_HIDDEN:
		view_error(r, 403, "The content of this message is not shown to you.");
		break;
	case STORE_ATTACH_NOT_KEPT:
		view_error(r, 404, "This attachment is not available: the store keeps no full"
			   " raw source of its message (RawStorage).");
		break;
	case STORE_ATTACH_TOO_LARGE:
		view_error(r, 404, "This attachment is not available: it is too large to open here.");
		break;
	default:
		msg_warn("thread %lld attachment %lld: the raw source no longer gives this"
			 " attachment (size or sha256 differ)", (long long)a->thread_id,
			 (long long)a->id);
		view_error(r, 404, "This attachment is not available: the stored source no longer"
			   " gives it.");
		break;
	}
}

/* page_attachment - GET /threads/TID/attachments/AID; see view_int.h */
void page_attachment(struct view_req *r, int64_t tid, int64_t aid)
{
	struct store_attachment *a = NULL;
	const char *type;
	char err[512];

	if (store_view_attachment(r->st, &r->who, tid, aid, &a, err, sizeof err) != STORE_OK) {
		view_store_failed(r, err);
		return;
	}
	if (!a)
		snprintf(r->log_note, sizeof r->log_note, " thread=%lld attachment_id=%lld access=none",
			 (long long)tid, (long long)aid);
	else
		snprintf(r->log_note, sizeof r->log_note,
			 " thread=%lld message=%lld attachment=%d attachment_id=%lld access=%s",
			 (long long)tid, (long long)a->message_id, a->index, (long long)aid, a->access);
	if (!a || a->state != STORE_ATTACH_OK) {
		refuse(r, a);
		store_attachment_free(a);
		return;
	}
	type = inline_type(a);
	r->ctype = type ? type : "application/octet-stream";
	r->disposition = disposition(a, type ? "inline" : "attachment");
	r->sandbox = 1;
	vbuf_adopt(&r->body, (char *)a->data, a->len);
	a->data = NULL;
	store_attachment_free(a);
}
