/*
 * schema.c - the versioned schema of the store and its forward migrations
 *
 * PRAGMA user_version holds the schema version.  migrations[i] takes a
 * store from version i to version i + 1; each step runs in its own
 * transaction together with the new user_version, so a crash leaves the
 * store at a whole version.  A new schema change is a new entry at the end
 * of the array (and STORE_SCHEMA_VERSION + 1 in store.h): never edit an
 * entry that has shipped.
 *
 * Conventions: dates are UTC epoch seconds; message bodies and raw sources
 * are zstd frames; roles, directions and sources are short words so that
 * the database reads well in the sqlite3 shell.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* version 0 -> 1: the whole first schema */
static const char schema_v1[] =
	"CREATE TABLE zdicts ("           /* zstd dictionaries (raw.c) */
	" id INTEGER PRIMARY KEY,"
	" dict BLOB NOT NULL,"
	" created INTEGER NOT NULL"
	");"
	"CREATE TABLE accounts ("
	" id INTEGER PRIMARY KEY,"
	" domain TEXT NOT NULL UNIQUE,"
	" name TEXT"
	");"
	"CREATE TABLE teams ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE"
	");"
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" login TEXT NOT NULL UNIQUE,"
	" name TEXT,"
	" role TEXT NOT NULL DEFAULT 'viewer',"
	" team_id INTEGER REFERENCES teams(id),"
	" secret TEXT"
	");"
	"CREATE TABLE mailboxes ("
	" id INTEGER PRIMARY KEY,"
	" address TEXT NOT NULL UNIQUE,"
	" name TEXT,"
	" team_id INTEGER REFERENCES teams(id),"
	" user_id INTEGER REFERENCES users(id),"
	" state TEXT NOT NULL DEFAULT 'connected',"
	" changed INTEGER"
	");"
	"CREATE TABLE threads ("
	" id INTEGER PRIMARY KEY,"
	" subject TEXT NOT NULL DEFAULT '',"
	" norm_subject TEXT NOT NULL DEFAULT '',"
	" first_date INTEGER NOT NULL DEFAULT 0,"
	" last_date INTEGER NOT NULL DEFAULT 0,"
	" messages INTEGER NOT NULL DEFAULT 0,"
	" visibility TEXT NOT NULL DEFAULT 'workspace'"
	");"
	"CREATE INDEX threads_subject ON threads(norm_subject, last_date);"
	"CREATE INDEX threads_last ON threads(last_date);"
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" msgid TEXT NOT NULL UNIQUE,"
	" thread_id INTEGER NOT NULL REFERENCES threads(id),"
	" date INTEGER NOT NULL,"
	" subject TEXT NOT NULL DEFAULT '',"
	" direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),"
	" size INTEGER NOT NULL DEFAULT 0,"
	" flags INTEGER NOT NULL DEFAULT 0,"
	" body BLOB,"                    /* zstd frame of the text body; NULL: empty or in raw */
	" dict_id INTEGER REFERENCES zdicts(id)," /* dictionary of the body frame */
	" body_len INTEGER NOT NULL DEFAULT 0,"
	" body_offset INTEGER,"          /* not NULL: body = raw bytes [offset, offset + body_len) */
	" snippet TEXT,"                 /* NULL: derived from body and quotes (snippet.c) */
	" quotes TEXT,"                  /* JSON [[start, len], ...] or NULL */
	" in_reply_to TEXT,"
	" visibility TEXT NOT NULL DEFAULT 'workspace',"
	" rule TEXT NOT NULL DEFAULT 'default',"
	" headers TEXT,"                 /* JSON of the decision headers */
	" warnings TEXT"                 /* JSON array of parser warnings, or NULL */
	");"
	"CREATE INDEX messages_thread ON messages(thread_id, date);"
	"CREATE TABLE message_sources ("
	" message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	" source TEXT NOT NULL CHECK (source IN ('import', 'milter')),"
	" origin TEXT NOT NULL DEFAULT '',"
	" queue_id TEXT,"
	" mail_from TEXT,"
	" client_addr TEXT,"
	" client_name TEXT,"
	" auth_authen TEXT,"
	" daemon_name TEXT,"
	" arrival INTEGER,"
	" PRIMARY KEY (message_id, source, origin)"
	") WITHOUT ROWID;"
	"CREATE TABLE raw ("
	" message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,"
	" mode TEXT NOT NULL CHECK (mode IN ('full', 'headers', 'none')),"
	" size INTEGER NOT NULL,"        /* bytes of the original message */
	" kept INTEGER NOT NULL DEFAULT 0," /* bytes of it kept (compressed in data) */
	" dict_id INTEGER REFERENCES zdicts(id),"
	" data BLOB"                     /* zstd frame of what mode keeps */
	");"
	"CREATE TABLE participants ("
	" message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	" role TEXT NOT NULL CHECK (role IN ('from', 'sender', 'reply-to', 'to', 'cc', 'bcc',"
	"  'envelope-rcpt')),"
	" address TEXT NOT NULL,"
	" name TEXT,"
	" pos INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (message_id, role, address)"
	") WITHOUT ROWID;"
	"CREATE INDEX participants_address ON participants(address);"
	"CREATE TABLE message_ids ("       /* the JWZ containers */
	" msgid TEXT PRIMARY KEY,"
	" thread_id INTEGER NOT NULL REFERENCES threads(id),"
	" parent TEXT,"                  /* msgid of the parent container */
	" message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL" /* NULL: placeholder */
	") WITHOUT ROWID;"
	"CREATE INDEX message_ids_thread ON message_ids(thread_id);"
	"CREATE TABLE thread_keys ("       /* Outlook Thread-Index conversation keys */
	" key TEXT PRIMARY KEY,"
	" thread_id INTEGER NOT NULL REFERENCES threads(id)"
	") WITHOUT ROWID;"
	"CREATE INDEX thread_keys_thread ON thread_keys(thread_id);"
	"CREATE TABLE contacts ("
	" id INTEGER PRIMARY KEY,"
	" address TEXT NOT NULL UNIQUE,"
	" name TEXT,"
	" account_id INTEGER REFERENCES accounts(id),"
	" first_seen INTEGER,"
	" last_seen INTEGER,"
	" sent INTEGER NOT NULL DEFAULT 0,"
	" received INTEGER NOT NULL DEFAULT 0,"
	" captured_by TEXT NOT NULL"
	");"
	"CREATE INDEX contacts_account ON contacts(account_id);"
	"CREATE TABLE deals ("
	" id INTEGER PRIMARY KEY,"
	" key TEXT NOT NULL UNIQUE,"
	" name TEXT,"
	" account_id INTEGER REFERENCES accounts(id),"
	" status TEXT NOT NULL DEFAULT 'open'"
	");"
	"CREATE TABLE links ("
	" id INTEGER PRIMARY KEY,"
	" thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,"
	" account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,"
	" contact_id INTEGER REFERENCES contacts(id) ON DELETE CASCADE,"
	" deal_id INTEGER REFERENCES deals(id) ON DELETE CASCADE,"
	" rule TEXT NOT NULL DEFAULT 'default',"
	" CHECK ((account_id IS NOT NULL) + (contact_id IS NOT NULL) + (deal_id IS NOT NULL) = 1)"
	");"
	"CREATE INDEX links_thread ON links(thread_id);"
	"CREATE UNIQUE INDEX links_account ON links(account_id, thread_id)"
	" WHERE account_id IS NOT NULL;"
	"CREATE UNIQUE INDEX links_contact ON links(contact_id, thread_id)"
	" WHERE contact_id IS NOT NULL;"
	"CREATE UNIQUE INDEX links_deal ON links(deal_id, thread_id) WHERE deal_id IS NOT NULL;"
	"CREATE TABLE attachments ("
	" id INTEGER PRIMARY KEY,"
	" message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	" filename TEXT,"
	" content_type TEXT,"
	" size INTEGER NOT NULL DEFAULT 0,"
	" sha256 TEXT"
	");"
	"CREATE INDEX attachments_message ON attachments(message_id);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" at INTEGER NOT NULL,"
	" who TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" detail TEXT"
	");"
	/* contentless: the text lives (compressed) in messages; rowid = messages.id */
	"CREATE VIRTUAL TABLE fts USING fts5(subject, body, people, content='');";

/*
 * version 1 -> 2: the rules engine.  Every decision names the rule that
 * made it (a rules row: file, line, text, hash).  messages is rebuilt so
 * that thread_id may be NULL: a skipped message is a metadata row in no
 * thread.  Accounts gain their domains (several domains, one account),
 * deals their contacts; threads their visibility and why they are
 * unassigned.  Foreign keys are off while it runs (migrate_step).
 */
static const char schema_v2[] =
	"CREATE TABLE rules ("
	" id INTEGER PRIMARY KEY,"
	" file TEXT NOT NULL,"
	" line INTEGER NOT NULL,"
	" hash TEXT NOT NULL,"           /* FNV-1a 64 of text: an edited rule is a new row */
	" text TEXT NOT NULL,"
	" UNIQUE (file, line, hash)"
	");"
	"CREATE TABLE messages_v2 ("
	" id INTEGER PRIMARY KEY,"
	" msgid TEXT NOT NULL UNIQUE,"
	" thread_id INTEGER REFERENCES threads(id)," /* NULL: skipped */
	" date INTEGER NOT NULL,"
	" subject TEXT NOT NULL DEFAULT '',"
	" direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),"
	" size INTEGER NOT NULL DEFAULT 0,"
	" flags INTEGER NOT NULL DEFAULT 0,"
	" body BLOB,"
	" dict_id INTEGER REFERENCES zdicts(id),"
	" body_len INTEGER NOT NULL DEFAULT 0,"
	" body_offset INTEGER,"
	" snippet TEXT,"
	" quotes TEXT,"
	" in_reply_to TEXT,"
	" visibility TEXT NOT NULL DEFAULT 'workspace'," /* who is inside */
	" rule TEXT NOT NULL DEFAULT 'default',"         /* FILE:LINE of the [log] rule */
	" headers TEXT,"
	" warnings TEXT,"
	" log TEXT NOT NULL DEFAULT 'logged' CHECK (log IN ('logged', 'private', 'skipped')),"
	" log_reason TEXT,"
	" log_rule INTEGER REFERENCES rules(id),"
	" outside TEXT NOT NULL DEFAULT 'everything',"  /* what others see */
	" vis_reason TEXT,"
	" vis_rule INTEGER REFERENCES rules(id),"
	" untrusted INTEGER NOT NULL DEFAULT 0"  /* 1: inbound, not authenticated: links nobody */
	");"
	"INSERT INTO messages_v2 (id, msgid, thread_id, date, subject, direction, size, flags, body,"
	" dict_id, body_len, body_offset, snippet, quotes, in_reply_to, visibility, rule, headers,"
	" warnings) SELECT id, msgid, thread_id, date, subject, direction, size, flags, body,"
	" dict_id, body_len, body_offset, snippet, quotes, in_reply_to, visibility, rule, headers,"
	" warnings FROM messages;"
	"DROP TABLE messages;"
	"ALTER TABLE messages_v2 RENAME TO messages;"
	"CREATE INDEX messages_thread ON messages(thread_id, date);"
	"CREATE INDEX messages_date ON messages(date);"
	"ALTER TABLE threads ADD COLUMN outside TEXT NOT NULL DEFAULT 'everything';"
	"ALTER TABLE threads ADD COLUMN vis_reason TEXT;"
	"ALTER TABLE threads ADD COLUMN vis_rule INTEGER REFERENCES rules(id);"
	"ALTER TABLE threads ADD COLUMN unassigned TEXT;" /* why nothing (or no deal) is linked */
	"ALTER TABLE contacts ADD COLUMN capture_rule INTEGER REFERENCES rules(id);"
	"ALTER TABLE links ADD COLUMN rule_id INTEGER REFERENCES rules(id);"
	"ALTER TABLE accounts ADD COLUMN rule_id INTEGER REFERENCES rules(id);"
	"CREATE TABLE account_domains ("
	" domain TEXT PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE"
	") WITHOUT ROWID;"
	"INSERT INTO account_domains (domain, account_id) SELECT domain, id FROM accounts;"
	"ALTER TABLE deals ADD COLUMN rule_id INTEGER REFERENCES rules(id);"
	"CREATE TABLE deal_contacts ("
	" deal_id INTEGER NOT NULL REFERENCES deals(id) ON DELETE CASCADE,"
	" address TEXT NOT NULL,"
	" PRIMARY KEY (deal_id, address)"
	") WITHOUT ROWID;"
	"CREATE INDEX deal_contacts_address ON deal_contacts(address);";

/*
 * version 2 -> 3: erasure and retention.  forgotten is the never-capture
 * list: the SHA-256 (hex) of a lower-cased address or domain, never the
 * text itself (forget.c).  holds are legal holds on a thread or on every
 * thread of an account, which a purge never deletes (purge.c).
 */
static const char schema_v3[] =
	"CREATE TABLE forgotten ("
	" hash TEXT PRIMARY KEY,"         /* sha256 hex of the lower-cased address or domain */
	" kind TEXT NOT NULL CHECK (kind IN ('address', 'domain')),"
	" at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE holds ("
	" id INTEGER PRIMARY KEY,"
	" thread_id INTEGER REFERENCES threads(id) ON DELETE CASCADE,"
	" account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,"
	" at INTEGER NOT NULL,"
	" who TEXT NOT NULL,"
	" CHECK ((thread_id IS NULL) <> (account_id IS NULL))"
	");"
	"CREATE UNIQUE INDEX holds_thread ON holds(thread_id) WHERE thread_id IS NOT NULL;"
	"CREATE UNIQUE INDEX holds_account ON holds(account_id) WHERE account_id IS NOT NULL;";

/*
 * version 3 -> 4: record timelines at scale.  Each link carries its
 * thread's last date and whether the thread shows everyone something
 * ("shown": it has messages, and is visible to the workspace or shows
 * outsiders at least its metadata), kept by triggers.  A record's timeline
 * is then one walk of an index in date order, and its count needs a look
 * at a thread only where the thread is not shown to everyone.  The
 * unassigned threads get their own small index.
 */
#define SCHEMA_SHOWN(t) \
	"(" t ".messages > 0 AND (" t ".visibility = 'workspace'" \
	" OR " t ".outside IN ('everything', 'subject', 'metadata')))"
static const char schema_timeline[] =
	"ALTER TABLE links ADD COLUMN last_date INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE links ADD COLUMN shown INTEGER NOT NULL DEFAULT 0;"
	"UPDATE links SET (last_date, shown) = (SELECT t.last_date, " SCHEMA_SHOWN("t")
	" FROM threads t WHERE t.id = links.thread_id);"
	"CREATE INDEX links_account_time ON links(account_id, last_date, thread_id, shown)"
	" WHERE account_id IS NOT NULL;"
	"CREATE INDEX links_contact_time ON links(contact_id, last_date, thread_id, shown)"
	" WHERE contact_id IS NOT NULL;"
	"CREATE INDEX links_deal_time ON links(deal_id, last_date, thread_id, shown)"
	" WHERE deal_id IS NOT NULL;"
	"CREATE INDEX threads_unassigned ON threads(last_date, id) WHERE unassigned IS NOT NULL;"
	"CREATE TRIGGER links_follow_thread AFTER UPDATE OF last_date, messages, visibility, outside"
	" ON threads WHEN OLD.last_date IS NOT NEW.last_date OR " SCHEMA_SHOWN("OLD")
	" IS NOT " SCHEMA_SHOWN("NEW") " BEGIN"
	" UPDATE links SET last_date = NEW.last_date, shown = " SCHEMA_SHOWN("NEW")
	" WHERE thread_id = NEW.id; END;"
	"CREATE TRIGGER links_take_thread AFTER INSERT ON links BEGIN"
	" UPDATE links SET (last_date, shown) = (SELECT t.last_date, " SCHEMA_SHOWN("t")
	" FROM threads t WHERE t.id = NEW.thread_id) WHERE id = NEW.id; END;"
	"CREATE TRIGGER links_move_thread AFTER UPDATE OF thread_id ON links BEGIN"
	" UPDATE links SET (last_date, shown) = (SELECT t.last_date, " SCHEMA_SHOWN("t")
	" FROM threads t WHERE t.id = NEW.thread_id) WHERE id = NEW.id; END;";

/*
 * version 4 -> 5: reads whose cost does not grow with the store.
 * crmctl status and /metrics ask for the newest milter arrival, the
 * messages first received in the last day, and the skipped messages by
 * reason; two partial indexes (milter copies by arrival, skipped messages
 * by reason) let each query read only the entries it counts instead of a
 * scan of every message (0.7 s a scrape at a million).  A thread carries
 * the count of its messages' attachments, kept by store_thread_refresh
 * like its message count: a timeline no longer counts them over every
 * message of a long thread (10 ms for a page of 50 busy threads).
 * Building these reads every message once (about 30 s at a million).
 */
static const char schema_v5[] =
	"CREATE INDEX message_sources_arrival ON message_sources(arrival)"
	" WHERE source = 'milter';"
	"CREATE INDEX messages_skipped ON messages(log_reason)"
	" WHERE thread_id IS NULL AND log = 'skipped';"
	"ALTER TABLE threads ADD COLUMN attachments INTEGER NOT NULL DEFAULT 0;"
	"UPDATE threads SET attachments = (SELECT count(*) FROM messages m"
	" JOIN attachments a ON a.message_id = m.id WHERE m.thread_id = threads.id);";

/*
 * version 5 -> 6: threads that do not depend on the order mail arrives in
 * (thread.c).  The subject fallback is a relation between two messages,
 * so each message keeps its subject key (its normalised subject, NULL
 * when generic or a placeholder: crm_subject_key, registered by
 * store_migrate) and whether it had reference headers, indexed by key and
 * date; the fallback no longer reads threads by normalised subject.  For
 * stored mail "had reference headers" is read from what was kept: an
 * In-Reply-To, or a parent of its own container (a References id, or a
 * later message's References chain: then it counts as having them, which
 * only ever withholds a subject join).  Existing threads are not rebuilt.
 */
static const char schema_v6[] =
	"ALTER TABLE messages ADD COLUMN subject_key TEXT;"
	"ALTER TABLE messages ADD COLUMN has_refs INTEGER NOT NULL DEFAULT 0;"
	"UPDATE messages SET subject_key = crm_subject_key(subject),"
	" has_refs = coalesce(in_reply_to, '') <> '' OR EXISTS (SELECT 1 FROM message_ids c"
	"  WHERE c.msgid = messages.msgid AND c.parent IS NOT NULL)"
	" WHERE thread_id IS NOT NULL;"
	"CREATE INDEX messages_subject_key ON messages(subject_key, date)"
	" WHERE subject_key IS NOT NULL;"
	"DROP INDEX IF EXISTS threads_subject;";

/*
 * version 6 -> 7: the key of reply tags (reply.c), 32 random bytes from
 * SQLite's generator (ChaCha20 seeded from the system's randomness), made
 * once per store so that tags stay valid for as long as the store lives.
 */
static const char schema_v7[] =
	"CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
	"INSERT INTO secrets VALUES ('reply-tag', randomblob(32));";

/*
 * version 7 -> 8: status at a glance (crmview(8), STATUS).  A thread
 * carries its last inbound and outbound dates and since when it waits for
 * us or for them (STORE_SQL_THREAD_STATUS, kept by store_thread_refresh);
 * its links carry copies, in the timeline indexes, so that a table sorts
 * every record by them from the index alone.  A user who is not inside a
 * thread that shows outsiders nothing sees only the messages he sent or
 * received: thread_people holds, for those threads only (kept by a
 * trigger on every update of one), the same figures per delivering
 * address, taken from the messages that address sent or received, and
 * the thread's visibility, so that a user's rows are read together
 * without his threads (view.c).
 */
#define SCHEMA_DELIVERED_TO(m, addr) \
	"EXISTS (SELECT 1 FROM participants dp WHERE dp.message_id = " m ".id" \
	" AND +dp.role IN ('from', 'to', 'cc', 'bcc', 'envelope-rcpt') AND dp.address = " addr ")"
#define SCHEMA_FIRST_AFTER(dir, after) \
	"(SELECT min(m.date) FROM messages m WHERE m.thread_id = NEW.id AND m.direction = '" dir "'" \
	" AND (thread_people." after " IS NULL OR m.date > thread_people." after ") AND " \
	SCHEMA_DELIVERED_TO("m", "thread_people.address") ")"
#define SCHEMA_LINK_COPY(t) \
	"(last_date, shown, last_in, last_out, wait_us, wait_them) = (SELECT " t ".last_date, " \
	SCHEMA_SHOWN(t) ", " t ".last_in, " t ".last_out, " t ".wait_us, " t ".wait_them"
#define SCHEMA_TIME_INDEX(col) \
	"DROP INDEX links_" col "_time;" \
	"CREATE INDEX links_" col "_time ON links(" col "_id, last_date, thread_id, shown, last_in," \
	" last_out, wait_us, wait_them) WHERE " col "_id IS NOT NULL;"
/*
 * Each record carries the figures of its links shown to everyone (the
 * count, the last date, last in and out, the oldest waits: shown_*), so
 * that a table reads one row a record, not every link; a user's own view
 * adds only the threads he sees that are not shown to everyone
 * (view.c).  Triggers on links fold each change in: a link that leaves,
 * or a value that moves away from the record's extreme it held, makes the
 * record's figures read again from its links (the timeline index);
 * anything else merges into them.  SCHEMA_FOLD(K, T, O, OIN, N, NIN)
 * is that update of record table T (link column K_id) for the row O
 * leaving when OIN and the row N arriving when NIN.
 */
#define SCHEMA_MAXN(a, b) "coalesce(max(" a ", " b "), " a ", " b ")"
#define SCHEMA_MINN(a, b) "coalesce(min(" a ", " b "), " a ", " b ")"
#define SCHEMA_LOST(O, OIN, N, NIN, f, sf, cmp) \
	"(" OIN " AND " O "." f " IS NOT NULL AND " O "." f " " cmp " coalesce(" sf ", " O "." f ")" \
	" AND NOT (" NIN " AND coalesce(" N "." f " " cmp " " O "." f ", 0)))"
#define SCHEMA_NEEDS(O, OIN, N, NIN) \
	"(" SCHEMA_LOST(O, OIN, N, NIN, "last_date", "shown_last", ">=") \
	" OR " SCHEMA_LOST(O, OIN, N, NIN, "last_in", "shown_li", ">=") \
	" OR " SCHEMA_LOST(O, OIN, N, NIN, "last_out", "shown_lo", ">=") \
	" OR " SCHEMA_LOST(O, OIN, N, NIN, "wait_us", "shown_wu", "<=") \
	" OR " SCHEMA_LOST(O, OIN, N, NIN, "wait_them", "shown_wt", "<=") ")"
#define SCHEMA_REREAD(K, T, agg) \
	"(SELECT " agg " FROM links l INDEXED BY links_" K "_time WHERE l." K "_id = " T ".id" \
	" AND l.shown)"
#define SCHEMA_FOLD_COL(K, T, O, OIN, N, NIN, sf, f, agg, merge) \
	sf " = CASE WHEN " SCHEMA_NEEDS(O, OIN, N, NIN) " THEN " SCHEMA_REREAD(K, T, agg "(l." f ")") \
	" WHEN " NIN " THEN " merge(sf, N "." f) " ELSE " sf " END"
#define SCHEMA_FOLD(K, T, O, OIN, N, NIN) \
	"UPDATE " T " SET shown_n = shown_n - (" OIN ") + (" NIN "), " \
	SCHEMA_FOLD_COL(K, T, O, OIN, N, NIN, "shown_last", "last_date", "max", SCHEMA_MAXN) ", " \
	SCHEMA_FOLD_COL(K, T, O, OIN, N, NIN, "shown_li", "last_in", "max", SCHEMA_MAXN) ", " \
	SCHEMA_FOLD_COL(K, T, O, OIN, N, NIN, "shown_lo", "last_out", "max", SCHEMA_MAXN) ", " \
	SCHEMA_FOLD_COL(K, T, O, OIN, N, NIN, "shown_wu", "wait_us", "min", SCHEMA_MINN) ", " \
	SCHEMA_FOLD_COL(K, T, O, OIN, N, NIN, "shown_wt", "wait_them", "min", SCHEMA_MINN)
#define SCHEMA_IN(row, K, T) "(" row "." K "_id IS " T ".id AND " row ".shown)"
#define SCHEMA_FOLDS(K, T) \
	"ALTER TABLE " T " ADD COLUMN shown_n INTEGER NOT NULL DEFAULT 0;" \
	"ALTER TABLE " T " ADD COLUMN shown_last INTEGER;" \
	"ALTER TABLE " T " ADD COLUMN shown_li INTEGER;" \
	"ALTER TABLE " T " ADD COLUMN shown_lo INTEGER;" \
	"ALTER TABLE " T " ADD COLUMN shown_wu INTEGER;" \
	"ALTER TABLE " T " ADD COLUMN shown_wt INTEGER;" \
	"UPDATE " T " SET (shown_n, shown_last, shown_li, shown_lo, shown_wu, shown_wt) = (SELECT" \
	" count(*), max(l.last_date), max(l.last_in), max(l.last_out), min(l.wait_us)," \
	" min(l.wait_them) FROM links l WHERE l." K "_id = " T ".id AND l.shown);" \
	"CREATE TRIGGER links_fold_" K "_insert AFTER INSERT ON links WHEN NEW." K "_id IS NOT NULL" \
	" BEGIN " SCHEMA_FOLD(K, T, "NEW", "0", "NEW", SCHEMA_IN("NEW", K, T)) \
	" WHERE id = NEW." K "_id; END;" \
	"CREATE TRIGGER links_fold_" K "_delete AFTER DELETE ON links WHEN OLD." K "_id IS NOT NULL" \
	" BEGIN " SCHEMA_FOLD(K, T, "OLD", SCHEMA_IN("OLD", K, T), "OLD", "0") \
	" WHERE id = OLD." K "_id; END;" \
	"CREATE TRIGGER links_fold_" K "_update AFTER UPDATE OF " K "_id, shown, last_date, last_in," \
	" last_out, wait_us, wait_them ON links WHEN OLD." K "_id IS NOT NULL OR NEW." K "_id" \
	" IS NOT NULL BEGIN " SCHEMA_FOLD(K, T, "OLD", SCHEMA_IN("OLD", K, T), "NEW", \
	SCHEMA_IN("NEW", K, T)) " WHERE id IN (OLD." K "_id, NEW." K "_id); END;"

static const char schema_v8[] =
	"ALTER TABLE threads ADD COLUMN last_in INTEGER;"
	"ALTER TABLE threads ADD COLUMN last_out INTEGER;"
	"ALTER TABLE threads ADD COLUMN wait_us INTEGER;"
	"ALTER TABLE threads ADD COLUMN wait_them INTEGER;"
	"UPDATE threads SET (last_in, last_out, wait_us, wait_them) = "
	STORE_SQL_THREAD_STATUS("threads.id") ";"
	"ALTER TABLE links ADD COLUMN last_in INTEGER;"
	"ALTER TABLE links ADD COLUMN last_out INTEGER;"
	"ALTER TABLE links ADD COLUMN wait_us INTEGER;"
	"ALTER TABLE links ADD COLUMN wait_them INTEGER;"
	"DROP TRIGGER links_follow_thread;"
	"DROP TRIGGER links_take_thread;"
	"DROP TRIGGER links_move_thread;"
	"CREATE TRIGGER links_follow_thread AFTER UPDATE OF last_date, messages, visibility, outside,"
	" last_in, last_out, wait_us, wait_them ON threads WHEN OLD.last_date IS NOT NEW.last_date"
	" OR " SCHEMA_SHOWN("OLD") " IS NOT " SCHEMA_SHOWN("NEW") " OR OLD.last_in IS NOT NEW.last_in"
	" OR OLD.last_out IS NOT NEW.last_out OR OLD.wait_us IS NOT NEW.wait_us"
	" OR OLD.wait_them IS NOT NEW.wait_them BEGIN"
	" UPDATE links SET last_date = NEW.last_date, shown = " SCHEMA_SHOWN("NEW") ","
	" last_in = NEW.last_in, last_out = NEW.last_out, wait_us = NEW.wait_us,"
	" wait_them = NEW.wait_them WHERE thread_id = NEW.id; END;"
	"CREATE TRIGGER links_take_thread AFTER INSERT ON links BEGIN"
	" UPDATE links SET " SCHEMA_LINK_COPY("t") " FROM threads t WHERE t.id = NEW.thread_id)"
	" WHERE id = NEW.id; END;"
	"CREATE TRIGGER links_move_thread AFTER UPDATE OF thread_id ON links BEGIN"
	" UPDATE links SET " SCHEMA_LINK_COPY("t") " FROM threads t WHERE t.id = NEW.thread_id)"
	" WHERE id = NEW.id; END;"
	"UPDATE links SET " SCHEMA_LINK_COPY("t") " FROM threads t WHERE t.id = links.thread_id);"
	SCHEMA_TIME_INDEX("account") SCHEMA_TIME_INDEX("contact") SCHEMA_TIME_INDEX("deal")
	"CREATE TABLE thread_people ("
	" address TEXT NOT NULL,"
	" thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,"
	" visibility TEXT NOT NULL,"     /* the thread's: who is inside it */
	" last INTEGER NOT NULL,"        /* the last message the address sent or received */
	" last_in INTEGER,"
	" last_out INTEGER,"
	" wait_us INTEGER,"
	" wait_them INTEGER,"
	" PRIMARY KEY (address, thread_id)" /* one user's rows together */
	") WITHOUT ROWID;"
	"CREATE INDEX thread_people_thread ON thread_people(thread_id);"
	"CREATE TRIGGER thread_people_follow AFTER UPDATE OF messages, last_date, visibility, outside"
	" ON threads WHEN NOT " SCHEMA_SHOWN("NEW") " OR NOT " SCHEMA_SHOWN("OLD") " BEGIN"
	" DELETE FROM thread_people WHERE thread_id = NEW.id;"
	" INSERT INTO thread_people (thread_id, address, visibility, last, last_in, last_out)"
	" SELECT NEW.id, p.address, NEW.visibility, max(m.date),"
	"  max(CASE WHEN m.direction = 'inbound' THEN m.date"
	"  END), max(CASE WHEN m.direction = 'outbound' THEN m.date END)"
	" FROM messages m JOIN participants p ON p.message_id = m.id WHERE m.thread_id = NEW.id"
	" AND +p.role IN ('from', 'to', 'cc', 'bcc', 'envelope-rcpt') AND NOT " SCHEMA_SHOWN("NEW")
	" GROUP BY p.address;"
	" UPDATE thread_people SET wait_us = " SCHEMA_FIRST_AFTER("inbound", "last_out") ","
	" wait_them = " SCHEMA_FIRST_AFTER("outbound", "last_in") " WHERE thread_id = NEW.id; END;"
	/* fills thread_people through its trigger */
	"UPDATE threads SET messages = messages WHERE NOT " SCHEMA_SHOWN("threads") ";"
	"CREATE INDEX threads_hidden ON threads(visibility) WHERE outside = 'nothing'"
	" AND visibility <> 'workspace';"
	SCHEMA_FOLDS("account", "accounts") SCHEMA_FOLDS("contact", "contacts")
	SCHEMA_FOLDS("deal", "deals");

static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_timeline,
	schema_v5,
	schema_v6,
	schema_v7,
	schema_v8,
};

_Static_assert(sizeof migrations / sizeof migrations[0] == STORE_SCHEMA_VERSION,
	       "one migration per schema version");

/* user_version - read PRAGMA user_version; returns STORE_OK or an error class */
static int user_version(struct store *st, int *out)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int(s, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_OK ? STORE_OK : store_sqlerr(st, rc, "reading schema version");
}

/* fk_check - STORE_OK when PRAGMA foreign_key_check finds nothing */
static int fk_check(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA foreign_key_check", -1, &s, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return store_fail(st, STORE_ECORRUPT, "%s: migration breaks a foreign key", st->path);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlerr(st, rc, "checking foreign keys");
}

/*
 * migrate_step - apply migrations[v] and set user_version v + 1 in one
 * transaction; another process may have done it first, which is fine.
 * Returns STORE_OK or an error class (rolled back).
 */
static int migrate_step(struct store *st, int v)
{
	char sql[64];
	int cur = 0, rc;

	/* a table rebuild must not cascade: foreign keys off, checked after */
	rc = store_exec(st, "PRAGMA foreign_keys = OFF");
	if (rc == STORE_OK)
		rc = store_exec(st, "BEGIN IMMEDIATE");
	if (rc != STORE_OK)
		return rc;
	rc = user_version(st, &cur);
	if (rc != STORE_OK || cur > v)
		goto out;
	rc = store_exec(st, migrations[v]);
	if (rc == STORE_OK)
		rc = fk_check(st);
	if (rc != STORE_OK)
		goto out;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
	rc = store_exec(st, sql);
	if (rc == STORE_OK)
		rc = store_exec(st, "COMMIT");
out:
	if (rc != STORE_OK || cur > v)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return rc;
}

/* sql_subject_key - crm_subject_key(SUBJECT): store_subject_key in SQL */
static void sql_subject_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *subject = sqlite3_value_text(argv[0]);
	char *key;

	(void)argc;
	key = store_subject_key((const char *)subject);
	if (key)
		sqlite3_result_text(ctx, key, -1, free);
	else
		sqlite3_result_null(ctx);
}

/* subject_key_function - register crm_subject_key for the migrations that fill subject keys */
static int subject_key_function(struct store *st)
{
	int rc = sqlite3_create_function(st->db, "crm_subject_key", 1,
					 SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_subject_key,
					 NULL, NULL);

	return rc == SQLITE_OK ? STORE_OK : store_sqlerr(st, rc, "registering crm_subject_key");
}

/*
 * store_migrate - check the schema version and bring the store up to
 * STORE_SCHEMA_VERSION (not when read-only).  Returns STORE_OK, or an
 * error class with the reason in st->err: ECORRUPT for a store newer than
 * this program, EINVAL for a read-only store that was never created.
 */
int store_migrate(struct store *st)
{
	int v = 0, rc;

	rc = user_version(st, &v);
	if (rc != STORE_OK)
		return rc;
	if (v > STORE_SCHEMA_VERSION)
		return store_fail(st, STORE_ECORRUPT,
				  "%s: schema version %d is newer than this program knows (%d);"
				  " upgrade crmilter", st->path, v, STORE_SCHEMA_VERSION);
	if (st->readonly) {
		if (v < STORE_SCHEMA_VERSION)
			return store_fail(st, STORE_EINVAL,
					  "%s: store has schema version %d, needs %d; open it"
					  " read-write once (crmctl) to migrate", st->path, v,
					  STORE_SCHEMA_VERSION);
		return STORE_OK;
	}
	if (v < STORE_SCHEMA_VERSION)
		rc = subject_key_function(st);
	for (; rc == STORE_OK && v < STORE_SCHEMA_VERSION; v++)
		rc = migrate_step(st, v);
	return rc;
}
