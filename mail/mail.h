/*
 * mail.h - the mail module: raw message bytes in, a struct mail_record out
 *
 * mail_parse() reads any message (LF or CRLF, well formed or not) with GMime
 * and fills a struct mail_record: identifiers, date, decoded subject and
 * addresses, the readable text body, attachment metadata, the headers that
 * drive decisions, automated-mail flags and parser warnings.  It never fails
 * on malformed input: what cannot be understood becomes a warning.
 *
 * The module also owns address and subject normalisation, registrable
 * domains (libpsl), the free-mail list, and the readers of mail sources
 * (single files, mbox, Maildir, folders of them) used by crmctl import.
 *
 * It never touches SQLite, libmilter or pcre2.  All strings are UTF-8 and
 * NUL terminated; everything in a record belongs to the record.
 */
#ifndef CRM_MAIL_H
#define CRM_MAIL_H

#include <stddef.h>
#include <stdint.h>

/* caps: a hostile message cannot make a record grow without bound */
#define MAIL_MAX_ADDRS        1000   /* per address header */
#define MAIL_MAX_REFERENCES   200    /* References ids kept (the last ones) */
#define MAIL_MAX_ATTACHMENTS  1000
#define MAIL_MAX_WARNINGS     50
#define MAIL_MAX_BODY_TEXT    (1024 * 1024)  /* bytes of body text kept */
#define MAIL_SNIPPET_CHARS    200            /* characters, not bytes */
#define MAIL_MAX_HEADER_VALUE 4096           /* bytes kept of a decision header */

/* record flags */
#define MAIL_BOUNCE     (1u << 0)  /* DSN or non-standard bounce */
#define MAIL_AUTOREPLY  (1u << 1)  /* RFC 3834 or vacation/out-of-office */
#define MAIL_BULK       (1u << 2)  /* list post, Precedence bulk/list/junk */
#define MAIL_TRUNCATED  (1u << 3)  /* the raw message was cut short upstream */
#define MAIL_HTML_BODY  (1u << 4)  /* body text was made from HTML */
#define MAIL_NO_MSGID   (1u << 5)  /* Message-ID missing: synthetic id used */
#define MAIL_BAD_DATE   (1u << 6)  /* Date missing or absurd: fallback used */

struct mail_addr {
	char *name;          /* decoded display name, or NULL */
	char *addr;          /* "local@domain", ASCII lower-cased */
	const char *domain;  /* points into addr, after '@'; "" if none */
};

struct mail_addrs {
	struct mail_addr *v;
	size_t n;
};

/* a byte range of the body holding quoted reply history */
struct mail_span {
	size_t start;
	size_t len;
};

struct mail_attachment {
	char *filename;       /* decoded (RFC 2231/2047), or NULL */
	char *content_type;   /* "type/subtype", lower case */
	uint64_t size;        /* decoded bytes */
	char sha256[65];      /* hex of the decoded bytes */
};

/* headers that drive decisions, unfolded, each capped at MAIL_MAX_HEADER_VALUE */
struct mail_headers {
	char *list_id;
	char *list_unsubscribe;
	char *precedence;
	char *auto_submitted;
	char *x_auto_response_suppress;
	char *sensitivity;
	char *thread_index;
	char *return_path;         /* address without <>, "" for the null sender */
	char **auth_results;       /* every Authentication-Results, in order */
	size_t n_auth_results;
};

struct mail_record {
	char *message_id;      /* normalised: no <>, no spaces; never NULL */
	char *in_reply_to;     /* first id of In-Reply-To, or NULL */
	size_t n_in_reply_to;  /* how many ids In-Reply-To held */
	char **references;     /* References ids, oldest first */
	size_t n_references;
	int64_t date;          /* UTC seconds; fallback when MAIL_BAD_DATE */
	char *subject;         /* decoded; "" when missing */
	struct mail_addrs from, sender, reply_to, to, cc, bcc;
	char *body;            /* text body, UTF-8; "" when none */
	size_t body_len;
	struct mail_span *quotes;   /* quoted history ranges, in order */
	size_t n_quotes;
	char *snippet;         /* first words of the unquoted body, one line */
	struct mail_attachment *attachments;
	size_t n_attachments;
	struct mail_headers hdr;
	unsigned flags;        /* MAIL_* flags */
	char **warnings;       /* parser and decoder warnings */
	size_t n_warnings;
	uint64_t size;         /* raw bytes */
	size_t header_len;     /* raw bytes of the header block with its blank line */
};

struct mail_parse_opts {
	int64_t fallback_date;  /* envelope or arrival time; 0 means now */
	int truncated;          /* caller cut the message: set MAIL_TRUNCATED */
};

/* mail_init - initialise GMime once per process; safe to call again */
void mail_init(void);

/*
 * mail_parse - parse raw bytes into a new record
 *
 * opts may be NULL.  Returns 0 and stores the record in *out; the caller
 * frees it with mail_record_free().  Returns -1 (and *out is NULL) only
 * when len is 0 or memory runs out; every other problem is recorded in
 * warnings and the record is still filled as well as possible.
 */
int mail_parse(const char *raw, size_t len, const struct mail_parse_opts *opts,
	       struct mail_record **out);

/* mail_record_free - free a record and everything in it; NULL is fine */
void mail_record_free(struct mail_record *rec);

/* one attachment's decoded bytes (mail_attachment_bytes) */
struct mail_part_bytes {
	unsigned char *data;   /* the bytes (malloc()ed, NUL after the last one): free() */
	size_t len;
	char sha256[65];       /* hex of the bytes: what mail_parse stored for it */
	size_t n_attachments;  /* attachments the message lists in all */
};

/*
 * mail_attachment_bytes - the decoded bytes of attachment INDEX (0-based)
 * of the message RAW/LEN, in the order mail_parse lists its attachments:
 * MIME parts, forwarded messages, the files of a winmail.dat (TNEF) and
 * uuencoded parts alike, each decoded exactly as its size and sha256 were
 * computed (line ends of 7bit, 8bit and quoted-printable parts as LF).
 * The message is parsed again in full.  Returns 0 with *out filled, 1
 * when the message lists no attachment INDEX (out->n_attachments says how
 * many it has), -1 when LEN is 0 or memory runs out.
 */
int mail_attachment_bytes(const char *raw, size_t len, size_t index, struct mail_part_bytes *out);

/*
 * mail_snippet - the first MAIL_SNIPPET_CHARS characters of BODY outside the
 * QUOTES spans (sorted), white space collapsed to single spaces, cut on a
 * character boundary: the rule behind rec->snippet, for those who rebuild a
 * snippet from a stored body.  Returns a new string (free()), "" when there
 * is no text, NULL when memory runs out.
 */
char *mail_snippet(const char *body, size_t len, const struct mail_span *quotes, size_t n_quotes);

/*
 * mail_addr_normalise - canonical form of a bare address: surrounding space
 * and <> stripped, ASCII letters lower-cased (local part too).  Returns a new string (free()), or
 * NULL when s holds no '@' address.
 */
char *mail_addr_normalise(const char *s);

/*
 * mail_addr_is_automated - 1 when the address is obviously a machine's
 * (no-reply, mailer-daemon, postmaster, bounces, notifications...), else 0.
 */
int mail_addr_is_automated(const char *addr);

/*
 * mail_registrable_domain - the registrable domain (public suffix + 1) of a
 * lower-case domain, so "mail.acme.co.uk" gives "acme.co.uk".  Returns a new
 * string (free()); a domain that is itself a public suffix or has no dot is
 * returned unchanged.
 */
char *mail_registrable_domain(const char *domain);

/*
 * mail_freemail_load - load the free-mail domain list (one domain a line,
 * '#' comments).  Returns 0, or -1 with "FILE: reason" in err.  Replaces any
 * list loaded before.  mail_is_freemail() answers 1/0 for a registrable domain.
 */
int mail_freemail_load(const char *path, char *err, size_t errlen);
int mail_is_freemail(const char *domain);

/*
 * mail_subject_normalise - the subject used to match threads: reply and
 * forward prefixes (Re, Fwd, Fw, AW, WG, SV, VS, Antw, RE[2], Re: Re:...)
 * and list tags ("[list] ") removed, whitespace collapsed, lower case.
 * Returns a new string (free()).
 */
char *mail_subject_normalise(const char *subject);

/*
 * mail_subject_is_placeholder - 1 when a normalised subject is what a
 * mailer writes where there is none: "", "(no subject)", "subject
 * unavailable" (protected headers), a reply prefix alone, auto-reply and
 * bounce subjects ("out of office", "automatic reply: ...",
 * "undeliverable: ..."), else 0.  Placeholders never join threads.
 */
int mail_subject_is_placeholder(const char *normalised);

/*
 * mail_subject_is_generic - 1 when a normalised subject is too generic to
 * join threads by (a placeholder, "hello", "question", "meeting",
 * "invoice"...), else 0.
 */
int mail_subject_is_generic(const char *normalised);

/*
 * mail_thread_index_key - the conversation key of an Outlook Thread-Index
 * header (hex of its first 22 decoded bytes).  Returns a new string (free())
 * or NULL when the header is absent or malformed.
 */
char *mail_thread_index_key(const char *thread_index);

/* ---- mail sources: what crmctl import reads ---- */

struct mail_source;

/* one message taken from a source; valid until the next mail_source_next() */
struct mail_item {
	const char *data;        /* raw message bytes (mbox escaping undone) */
	size_t len;
	const char *origin;      /* file the message came from */
	int64_t offset;          /* byte offset in an mbox, or -1 */
	int64_t envelope_date;   /* mbox "From " line date or file mtime; 0 unknown */
};

/*
 * mail_source_open - open PATH: a message file, an mbox file, a Maildir
 * (cur/ and new/, and whatever else it holds: loose files, Maildir++
 * folders), or a folder holding any of these (walked in sorted order; what
 * is not read is listed by mail_source_skipped).  mboxrd is assumed; mboxo files read the same unless a body line
 * starts with ">>From ".  Returns 0, or -1 with "PATH: reason" in err.
 */
int mail_source_open(const char *path, struct mail_source **out, char *err, size_t errlen);

/*
 * mail_source_next - the next message.  Returns 1 with *item filled, 0 at
 * the end, or -1 when one message or file cannot be read: err says
 * "ORIGIN[:OFFSET]: reason" and the next call goes on with the rest.
 */
int mail_source_next(struct mail_source *src, struct mail_item *item, char *err, size_t errlen);

/* mail_source_progress - bytes read so far and bytes in all (for progress bars) */
void mail_source_progress(const struct mail_source *src, uint64_t *done, uint64_t *total);

/*
 * mail_looks_like_message - 1 when DATA starts like a message (after any
 * blank lines, a header field "Name:" or an mbox "From " line), else 0.
 * Import uses it to report files that are not mail instead of storing them.
 */
int mail_looks_like_message(const char *data, size_t len);

/*
 * mail_source_skipped - what under the path is not read, each as "PATH:
 * reason" (a hidden or index file, a link to nothing, a Maildir's tmp/, a
 * folder too deep or unreadable...); *out is owned by SRC.  Returns how many.
 */
size_t mail_source_skipped(const struct mail_source *src, const char *const **out);

/* mail_source_close - close and free; NULL is fine */
void mail_source_close(struct mail_source *src);

#endif
