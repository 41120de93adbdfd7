/*
 * attach.c - the decoded bytes of one attachment, for crmview's downloads
 *
 * Public: mail_attachment_bytes.  Private: mail_capture_object,
 * mail_capture_data.  The message is parsed again by the very walk that
 * listed its attachments at ingest (parse.c, body.c, tnef.c), with a
 * capture asking for one of them: so "attachment N" means the same part
 * it meant when the store wrote its row, whatever it came from (a MIME
 * part, a forwarded message, a file inside a winmail.dat, a uuencoded
 * part), and its bytes are decoded the way its sha256 was computed.
 */
#include <string.h>

#include "mail_int.h"

/* uu_bytes - PART's uuencoded content decoded by mail_uudecode (lost spaces forgiven) */
static GByteArray *uu_bytes(GMimePart *part)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *src = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *enc, *dec;

	if (src) {
		g_mime_stream_reset(src);
		g_mime_stream_write_to_stream(src, mem);
	}
	enc = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	dec = mail_uudecode((const char *)enc->data, enc->len);
	g_object_unref(mem);
	return dec;
}

/*
 * object_bytes - the decoded bytes of OBJ as body.c hashes them: a
 * uuencoded part by mail_uudecode, anything else by mail_object_decode
 */
static GByteArray *object_bytes(GMimeObject *obj)
{
	GMimeStream *mem;
	GByteArray *ba;

	if (GMIME_IS_PART(obj) &&
	    g_mime_part_get_content_encoding(GMIME_PART(obj)) == GMIME_CONTENT_ENCODING_UUENCODE)
		return uu_bytes(GMIME_PART(obj));
	mem = g_mime_stream_mem_new();
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	mail_object_decode(obj, mem, NULL);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_object_unref(mem);
	return ba;
}

/* mail_capture_object - keep OBJ's bytes when it is the attachment asked for (body.c) */
void mail_capture_object(struct mail_ctx *ctx, size_t index, GMimeObject *obj)
{
	struct mail_capture *c = ctx->capture;

	if (c != NULL && c->bytes == NULL && c->index == index)
		c->bytes = object_bytes(obj);
}

/* mail_capture_data - keep D/LEN when it is the attachment asked for (tnef.c) */
void mail_capture_data(struct mail_ctx *ctx, size_t index, const unsigned char *d, size_t len)
{
	struct mail_capture *c = ctx->capture;

	if (c != NULL && c->bytes == NULL && c->index == index) {
		c->bytes = g_byte_array_sized_new((guint)len);
		g_byte_array_append(c->bytes, d, (guint)len);
	}
}

/* mail_attachment_bytes - the bytes of attachment INDEX; see mail.h */
int mail_attachment_bytes(const char *raw, size_t len, size_t index, struct mail_part_bytes *out)
{
	struct mail_capture c = { .index = index };
	struct mail_record *rec = NULL;
	char *digest;

	memset(out, 0, sizeof *out);
	if (mail_parse_with(raw, len, NULL, &c, &rec) < 0)
		return -1;
	out->n_attachments = rec->n_attachments;
	mail_record_free(rec);
	if (c.bytes == NULL)
		return 1;
	digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, c.bytes->data, c.bytes->len);
	g_strlcpy(out->sha256, digest ? digest : "", sizeof out->sha256);
	g_free(digest);
	out->len = c.bytes->len;
	g_byte_array_append(c.bytes, (const guint8 *)"", 1);
	/* GLib's allocator is the system malloc (mail_int.h): the caller may free() it */
	out->data = g_byte_array_free(c.bytes, FALSE);
	return 0;
}
