/*
 * json.c - result columns as jansson values, the way every read of the
 * store spells them (crmctl's reads, the viewer, export): dates as
 * "YYYY-MM-DDTHH:MM:SSZ", SQL NULL as JSON null, message flags by name
 *
 * Private to storage/ (store_int.h).  Every function returns a new
 * reference; none fails but for memory, where jansson gives NULL.
 */
#include <time.h>

#include "store_int.h"
#include "../mail/mail.h"

/* store_json_epoch - see store_int.h */
json_t *store_json_epoch(int64_t t)
{
	char buf[48];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		return json_null();
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* store_json_date - see store_int.h */
json_t *store_json_date(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	return store_json_epoch(sqlite3_column_int64(s, i));
}

/* store_json_text - see store_int.h */
json_t *store_json_text(sqlite3_stmt *s, int i)
{
	const unsigned char *p = sqlite3_column_text(s, i);
	json_t *v;

	if (!p)
		return json_null();
	v = json_stringn((const char *)p, (size_t)sqlite3_column_bytes(s, i));
	return v ? v : json_null();
}

/* store_json_int - see store_int.h */
json_t *store_json_int(sqlite3_stmt *s, int i)
{
	return json_integer(sqlite3_column_int64(s, i));
}

/* store_json_id - see store_int.h */
json_t *store_json_id(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	return store_json_int(s, i);
}

/* store_json_flags - see store_int.h */
json_t *store_json_flags(unsigned f)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ MAIL_BOUNCE, "bounce" }, { MAIL_AUTOREPLY, "auto-reply" }, { MAIL_BULK, "bulk" },
		{ MAIL_TRUNCATED, "truncated" }, { MAIL_HTML_BODY, "html" },
		{ MAIL_NO_MSGID, "no-message-id" }, { MAIL_BAD_DATE, "bad-date" },
	};
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (f & names[i].bit)
			json_array_append_new(a, json_string(names[i].name));
	return a;
}
