/*
 * tnef_check.c - is a TNEF stream one libytnef can read safely?
 *
 * libytnef trusts its input: it allocates declared lengths before checking
 * them, crashes in TNEFFree() after some failures and leaks repeated
 * attributes.  mail_tnef_check() walks a stream against the grammar
 * libytnef reads: every attribute inside the stream with its data and the
 * checksum libytnef checks, every MAPI property block's counts and lengths
 * within the bytes present and within libytnef's own limits, and none of
 * the attributes repeated that libytnef would leak.  tnef.c hands libytnef
 * only a stream that passes.
 *
 * Private: mail_tnef_check.
 */
#include <string.h>

#include "mail_int.h"

/* libytnef defines BYTE, WORD, DWORD and ULONG as macros: included last */
#include <ytnef.h>

/* libytnef's own limits (TNEFFillMapi, to_utf8): beyond them it fails */
#define YT_MAX_PROPS 1000
#define YT_MAX_VALUES 1000
#define YT_MAX_NAME 100
#define YT_MAX_UNICODE 100000


/* attributes that allocate per occurrence: a repeat leaks in libytnef */
enum {
	ONCE_FROM = 1, ONCE_BODY = 2, ONCE_CODEPAGE = 4, ONCE_ORIGCLASS = 8, ONCE_MAPI = 16,
	ONCE_TITLE = 1, ONCE_DATA = 2, ONCE_ICON = 4, ONCE_ATTMAPI = 8
};

struct cursor {
	const unsigned char *p;
	size_t left;
};

/* skip - step over N bytes of C; -1 when fewer are left */
static int skip(struct cursor *c, size_t n)
{
	if (n > c->left)
		return -1;
	c->p += n;
	c->left -= n;
	return 0;
}

/* get32 - read a 32-bit number from C; -1 when fewer than 4 bytes are left */
static int get32(struct cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = mail_le32(c->p);
	return skip(c, 4);
}

/* fail - set *WHY and return -1 */
static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

/* is_subject - 1 for the property ids libytnef copies into its subject */
static int is_subject(uint32_t id)
{
	return id == PR_SUBJECT || id == PR_SUBJECT_IPM || id == PR_ORIGINAL_SUBJECT ||
	       id == PR_NORMALIZED_SUBJECT || id == PR_CONVERSATION_TOPIC;
}

/*
 * check_value - one value of a MAPI property of TYPE at C, as TNEFFillMapi
 * reads it; MV is set for a multi-valued property (no value count before
 * each counted value).  An empty subject is refused: libytnef allocates the
 * whole block for it and, the subject staying empty, again for the next.
 */
static int check_value(struct cursor *c, uint32_t type, uint32_t id, int mv, const char **why)
{
	uint32_t size;

	switch (type) {
	case PT_BINARY:
	case PT_OBJECT:
	case PT_STRING8:
	case PT_UNICODE:
		if ((!mv && skip(c, 4) < 0) || get32(c, &size) < 0)
			return fail(why, "MAPI property cut short");
		if (size > c->left || size + (-size & 3u) > c->left)
			return fail(why, "MAPI property longer than its block");
		if (type == PT_UNICODE && size > YT_MAX_UNICODE)
			return fail(why, "MAPI string over 100000 bytes (libytnef's limit)");
		if (size == 0 && is_subject(id))
			return fail(why, "empty MAPI subject");
		return skip(c, size + (-size & 3u));
	case PT_I2:
	case PT_LONG:
	case PT_R4:
	case PT_CURRENCY:
	case PT_APPTIME:
	case PT_ERROR:
	case PT_BOOLEAN:
		return skip(c, 4) < 0 ? fail(why, "MAPI property cut short") : 0;
	case PT_DOUBLE:
	case PT_I8:
	case PT_SYSTIME:
		return skip(c, 8) < 0 ? fail(why, "MAPI property cut short") : 0;
	case PT_CLSID:
		return skip(c, 16) < 0 ? fail(why, "MAPI property cut short") : 0;
	default:
		return fail(why, "MAPI property of an unknown type");
	}
}

/* check_mapi - 0 when the MAPI property block D/LEN reads through to its end; else -1 and *WHY */
static int check_mapi(const unsigned char *d, size_t len, const char **why)
{
	struct cursor c = { d, len };
	uint32_t count, tag, n, size, values;

	if (get32(&c, &count) < 0 || count > YT_MAX_PROPS)
		return fail(why, "bad MAPI property count");
	for (uint32_t i = 0; i < count; i++) {
		uint32_t type, id;
		int mv;

		if (get32(&c, &tag) < 0)
			return fail(why, "MAPI property block cut short");
		type = PROP_TYPE(tag);
		id = PROP_ID(tag);
		if (id >= 0x8000) {  /* named: a GUID, then names or a number */
			if (skip(&c, 16) < 0 || get32(&c, &n) < 0 || n > c.left / 4)
				return fail(why, "MAPI named property cut short");
			for (uint32_t j = 0; j < n; j++)
				if (get32(&c, &size) < 0 || size > YT_MAX_NAME ||
				    skip(&c, size + (-size & 3u)) < 0)
					return fail(why, "bad MAPI property name");
			if (n == 0) {
				if (get32(&c, &id) < 0)
					return fail(why, "MAPI named property cut short");
				id &= 0xFFFF;
			}
		}
		mv = (type & MV_FLAG) != 0;
		type &= ~(uint32_t)MV_FLAG;
		values = 1;
		if (mv && (get32(&c, &values) < 0 || values == 0 || values > YT_MAX_VALUES))
			return fail(why, "bad MAPI value count");
		for (uint32_t v = 0; v < values; v++)
			if (check_value(&c, type, id, mv, why) < 0)
				return -1;
	}
	return c.left == 0 ? 0 : fail(why, "MAPI property block longer than its properties");
}

/* check_sent_for - 0 when attSentFor's name/address pairs fill D/LEN exactly */
static int check_sent_for(const unsigned char *d, size_t len, const char **why)
{
	struct cursor c = { d, len };

	while (c.left > 0) {
		for (int k = 0; k < 2; k++) {
			size_t n;

			if (c.left < 2)
				return fail(why, "attSentFor cut short");
			n = (size_t)c.p[0] | (size_t)c.p[1] << 8;
			if (skip(&c, 2) < 0 || skip(&c, n) < 0)
				return fail(why, "attSentFor cut short");
		}
	}
	return 0;
}

/* check_attribute - what libytnef's handler for attribute ATT needs of D/LEN; ONCE_* bits in *MSG, *ATT_SEEN */
static int check_attribute(uint32_t att, const unsigned char *d, size_t len, int files,
			   unsigned *msg, unsigned *att_seen, const char **why)
{
	unsigned bit = 0, *seen = msg;

	switch (att) {
	case attFrom: bit = ONCE_FROM; break;
	case attBody: bit = ONCE_BODY; break;
	case attOemCodepage: bit = ONCE_CODEPAGE; break;
	case attOriginalMessageClass: bit = ONCE_ORIGCLASS; break;
	case attMAPIProps: bit = ONCE_MAPI; break;
	case attAttachTitle: bit = ONCE_TITLE; seen = att_seen; break;
	case attAttachData: bit = ONCE_DATA; seen = att_seen; break;
	case attAttachMetaFile: bit = ONCE_ICON; seen = att_seen; break;
	case attAttachment: bit = ONCE_ATTMAPI; seen = att_seen; break;
	case attTnefVersion:
		return len == 4 ? 0 : fail(why, "bad attTnefVersion");
	case attDateSent: case attDateRecd: case attDateModified: case attDateStart:
	case attDateEnd: case attAttachCreateDate: case attAttachModifyDate:
		return len >= sizeof(dtr) ? 0 : fail(why, "date attribute cut short");
	case attRecipTable:
		return len >= 4 ? 0 : fail(why, "attRecipTable cut short");
	case attSentFor:
		return check_sent_for(d, len, why);
	default:
		return 0;
	}
	if (seen == att_seen && files == 0)
		return fail(why, "attachment attribute before any attachment");
	if (*seen & bit)
		return fail(why, "attribute repeated");
	*seen |= bit;
	if (att == attMAPIProps || att == attAttachment)
		return check_mapi(d, len, why);
	return 0;
}

/*
 * mail_tnef_check - 0 when the TNEF stream D/LEN is one libytnef reads safely
 *
 * Every attribute must lie inside the stream, have data and the checksum
 * libytnef checks.  *USE is the length to hand over: all of it, or up to
 * the attribute that starts file number MAX_FILES + 1.  On failure -1 is
 * returned and *WHY says what is wrong (a static string).
 */
int mail_tnef_check(const unsigned char *d, size_t len, int max_files, size_t *use,
		    const char **why)
{
	size_t off = 6;
	unsigned msg = 0, att_seen = 0;
	int files = 0;

	if (len < 6 || mail_le32(d) != MAIL_TNEF_SIGNATURE)
		return fail(why, "no TNEF signature");
	while (off < len) {
		const unsigned char *data;
		uint32_t att, size;
		unsigned sum = 0;

		if (len - off < 9)
			return fail(why, "truncated (attribute header cut short)");
		data = d + off + 9;
		att = mail_le32(d + off + 1);
		size = mail_le32(d + off + 5);
		if (size == 0)
			return fail(why, "attribute with no data");
		if (size > len - off - 9 || len - off - 9 - size < 2)
			return fail(why, "truncated (an attribute runs past the end)");
		for (uint32_t i = 0; i < size; i++)
			sum += data[i];
		if ((sum & 0xFFFF) != ((unsigned)data[size] | (unsigned)data[size + 1] << 8))
			return fail(why, "attribute checksum mismatch");
		if (att == attAttachRenddata) {
			if (files == max_files)
				break;
			files++;
			att_seen = 0;
		}
		if (check_attribute(att, data, size, files, &msg, &att_seen, why) < 0)
			return -1;
		off += 9 + (size_t)size + 2;
	}
	*use = off;
	return 0;
}
