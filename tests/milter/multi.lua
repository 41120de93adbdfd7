-- multi.lua - several transactions on one connection, one aborted (RSET) in between
dofile(lib)
local conn = open_conn("mx.acme.com", "198.51.100.7", {["{daemon_name}"] = "smtpd"})
send_message(conn, {macros = {i = "MULTI1"}, from = "<dave@acme.com>",
	rcpts = {"<alice@example.com>"},
	headers = headers("multi-1@acme.com", "dave@acme.com", "alice@example.com", "First")})
-- a transaction that is aborted before EOM: nothing of it is logged
mt.macro(conn, SMFIC_MAIL, "i", "MULTI2")
check(mt.mailfrom(conn, "<dave@acme.com>") == nil, "MAIL FROM 2")
check(mt.rcptto(conn, "<alice@example.com>") == nil, "RCPT TO 2")
check(mt.header(conn, "Message-ID", "<multi-2@acme.com>") == nil, "header 2")
check(mt.bodystring(conn, "half a body") == nil, "body 2")
check(mt.abort(conn) == nil, "abort")
send_message(conn, {macros = {i = "MULTI3"}, from = "<dave@acme.com>",
	rcpts = {"<alice@example.com>", "<bob@example.com>"},
	headers = headers("multi-3@acme.com", "dave@acme.com", "alice@example.com", "Third")})
-- abort right after MAIL FROM, then one more message
mt.macro(conn, SMFIC_MAIL, "i", "MULTI4")
check(mt.mailfrom(conn, "<dave@acme.com>") == nil, "MAIL FROM 4")
check(mt.abort(conn) == nil, "abort 4")
send_message(conn, {macros = {i = "MULTI5"}, from = "<dave@acme.com>",
	rcpts = {"<alice@example.com>"},
	headers = headers("multi-5@acme.com", "dave@acme.com", "alice@example.com", "Fifth")})
mt.disconnect(conn)
