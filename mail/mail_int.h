/*
 * mail_int.h - private interface between the files of the mail module
 *
 * Only the .c files of mail/ include this header.  parse.c drives a parse and owns the
 * record; the other files each fill one part of it:
 *
 *   prepare.c  the bytes GMime parses: one line-end form, unclosed header blocks closed
 *   uu.c       uudecoding that forgives lost trailing spaces
 *   charset.c  charsets and their aliases, raw bytes and header values to UTF-8
 *   addr.c     address normalisation, address lists, domains, free-mail list
 *   subject.c  subject normalisation and Outlook Thread-Index keys
 *   body.c     MIME walk: text body choice, attachments, report parts
 *   attach.c   the decoded bytes of one attachment (mail_attachment_bytes)
 *   text.c     the readable text of a text part
 *   tnef.c     winmail.dat (application/ms-tnef): its files and its body (libytnef)
 *   tnef_check.c  is a TNEF stream safe to hand to libytnef
 *   rtf.c      the compressed RTF body of a TNEF, made plain text
 *   html.c     HTML to readable text (libxml2)
 *   quote.c    quoted-history spans and the snippet
 *   flags.c    bounce, auto-reply and bulk detection
 *
 * Strings stored in a record are allocated with GLib (g_malloc, g_strdup)
 * and released by mail_record_free(); GLib's allocator is the system malloc.
 */
#ifndef CRM_MAIL_INT_H
#define CRM_MAIL_INT_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "mail.h"

/* MIME nesting we follow before giving up on a branch (GMime caps it too) */
#define MAIL_MAX_DEPTH 64
/* bytes kept of one warning string */
#define MAIL_MAX_WARNING_LEN 240

/* what the MIME walk learnt that flags.c needs */
struct mail_walk_facts {
	int report_delivery_status;  /* multipart/report; report-type=delivery-status */
	int report_disposition;      /* multipart/report; report-type=disposition-notification */
	int delivery_status_part;    /* message/(global-)delivery-status anywhere outside rfc822 */
	int feedback_report_part;    /* message/feedback-report (ARF) */
	int returned_message;        /* message/rfc822 or text/rfc822-headers in the outer message */
};

/*
 * what mail_attachment_bytes() asks of a parse: the decoded bytes of
 * attachment INDEX (0-based, in the order the record lists them), kept
 * when the walk lists it (body.c, tnef.c)
 */
struct mail_capture {
	size_t index;
	GByteArray *bytes;            /* NULL until found; the caller frees it */
};

/* the state of one mail_parse() call */
struct mail_ctx {
	struct mail_record *rec;
	GMimeParserOptions *options;  /* per parse: its warning callback feeds rec */
	GMimeMessage *message;        /* NULL when GMime made nothing of the input */
	GByteArray *prepared;         /* the bytes parsed (mail_prepare) */
	const char *raw;              /* prepared->data */
	size_t len;
	size_t body_off;              /* where the body starts in raw */
	const char *charset;          /* declared charset for raw 8-bit headers, or NULL */
	struct mail_walk_facts facts;
	GString *tnef_text;           /* body a TNEF part carried, or NULL (body.c frees) */
	int tnef_html;                /* tnef_text was made from HTML */
	struct mail_capture *capture; /* NULL, or the attachment whose bytes to keep */
};

/* prepare.c */
GByteArray *mail_prepare(const char *raw, size_t len, unsigned *closed);

/*
 * mail_object_decode (body.c) - write OBJ's decoded content to OUT: a
 * part's through GMime's decoder, a message part's message as written.
 * Where line ends are the transport's (7bit, 8bit, quoted-printable, a
 * message part) they become LF, so the same attachment read from an mbox
 * (LF) or from the MTA (CRLF) decodes alike.  EXTRA, when not NULL, is a
 * filter the bytes pass through last (a checksum).
 */
void mail_object_decode(GMimeObject *obj, GMimeStream *out, GMimeFilter *extra);

/* uu.c */
GByteArray *mail_uudecode(const char *s, size_t len);

/* parse.c */
int mail_parse_with(const char *raw, size_t len, const struct mail_parse_opts *opts,
		    struct mail_capture *capture, struct mail_record **out);
void mail_warn(struct mail_record *rec, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
char *mail_header_text(struct mail_ctx *ctx, const char *raw_value);
char *mail_unfold(const char *value, size_t cap);
const char *mail_header_raw(GMimeObject *obj, const char *name);
char *mail_cap_utf8(char *s, size_t cap);
void mail_plain_body(struct mail_ctx *ctx);

/* charset.c */
const char *mail_charset_iconv(const char *declared);
char *mail_convert_strict(const char *s, size_t len, const char *charset);
char *mail_convert_lenient(const char *s, size_t len, const char *charset, size_t *bad);
char *mail_to_utf8(const char *s, size_t len, const char *charset);
char *mail_header_to_utf8(const char *raw, const char *charset);

/* addr.c */
void mail_addrs_from_header(struct mail_ctx *ctx, const char *name, struct mail_addrs *out);
void mail_addrs_free(struct mail_addrs *a);

/* body.c */
void mail_body_walk(struct mail_ctx *ctx);

/* attach.c */
void mail_capture_object(struct mail_ctx *ctx, size_t index, GMimeObject *obj);
void mail_capture_data(struct mail_ctx *ctx, size_t index, const unsigned char *d, size_t len);

/* text.c */
GString *mail_part_text(struct mail_record *rec, GMimeTextPart *plain, GMimeTextPart *html);
GByteArray *mail_decoded_bytes(GMimePart *part);
void mail_text_cap(struct mail_record *rec, GString *g);
void mail_text_normalise_newlines(GString *s);

/* tnef.c, tnef_check.c, rtf.c */
#define MAIL_TNEF_SIGNATURE 0x223E9F78u
int mail_tnef_expand(struct mail_ctx *ctx, GMimePart *part, int inner, int *full);
int mail_tnef_check(const unsigned char *d, size_t len, int max_files, size_t *use,
		    const char **why);
GString *mail_rtf_decompress(const unsigned char *d, size_t len);
GString *mail_rtf_to_text(const char *s, size_t len, size_t cap);

/* mail_le32 - the little-endian 32-bit number at P */
static inline uint32_t mail_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* html.c */
char *mail_html_to_text(const char *html, size_t len, size_t cap);

/* quote.c */
void mail_quotes_find(struct mail_record *rec);
char *mail_snippet_make(const struct mail_record *rec);  /* free() */

/* flags.c */
unsigned mail_flags_detect(struct mail_ctx *ctx);

#endif
