# dump-store.sh - sourced by tests/T06x-*.sh: dump_store DB [PREFIX] prints
# every decision of a store, with its rule, in a stable order; PREFIX (the
# folder of the rules file) is cut from rule file names
dump_store() {
	local db=$1 prefix=${2:-}
	sqlite3 -readonly -separator ' | ' "$db" "
SELECT '== messages (date, Message-ID, direction, log, reason, rule)';
SELECT strftime('%H:%M', m.date, 'unixepoch'), m.msgid, m.direction, m.log,
       coalesce(m.log_reason, ''), coalesce(r.file || ':' || r.line, '')
  FROM messages m LEFT JOIN rules r ON r.id = m.log_rule ORDER BY m.date, m.msgid;
SELECT '== contacts (address, account, captured by)';
SELECT c.address, coalesce(a.domain, '-'), coalesce(r.file || ':' || r.line || ' ' || r.text, c.captured_by)
  FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id
  LEFT JOIN rules r ON r.id = c.capture_rule ORDER BY c.address;
SELECT '== accounts (key, name, domains seen)';
SELECT a.domain, coalesce(a.name, ''),
       (SELECT group_concat(domain, ' ') FROM (SELECT domain FROM account_domains
         WHERE account_id = a.id ORDER BY domain))
  FROM accounts a ORDER BY a.domain;
SELECT '== deals (key, status, name, linked threads)';
SELECT d.key, d.status, coalesce(d.name, ''), (SELECT count(*) FROM links l WHERE l.deal_id = d.id)
  FROM deals d ORDER BY d.key;
SELECT '== threads (subject, messages, visibility, rule, unassigned)';
SELECT t.subject, t.messages, t.visibility || '/' || t.outside, coalesce(r.file || ':' || r.line, ''),
       coalesce(t.unassigned, '')
  FROM threads t LEFT JOIN rules r ON r.id = t.vis_rule WHERE t.messages > 0
  ORDER BY t.first_date, t.subject;
SELECT '== links (thread, kind, key, rule)';
SELECT t.subject,
       CASE WHEN l.account_id IS NOT NULL THEN 'account' WHEN l.contact_id IS NOT NULL
            THEN 'contact' ELSE 'deal' END,
       coalesce(a.domain, c.address, d.key), coalesce(r.file || ':' || r.line, l.rule)
  FROM links l JOIN threads t ON t.id = l.thread_id
  LEFT JOIN accounts a ON a.id = l.account_id LEFT JOIN contacts c ON c.id = l.contact_id
  LEFT JOIN deals d ON d.id = l.deal_id LEFT JOIN rules r ON r.id = l.rule_id
  ORDER BY t.first_date, t.subject, 2, 3;" | sed "s#${prefix:-/nonexistent/}##g"
}
