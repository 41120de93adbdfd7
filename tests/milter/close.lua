-- close.lua - connections that end early: before connect info, mid-message, abruptly
dofile(lib)
-- close without connect: negotiate only, then quit
local c1 = mt.connect(sock, 40, 0.25)
check(c1 ~= nil, "connect 1")
check(mt.negotiate(c1, nil, nil, nil) == nil, "negotiate 1")
mt.disconnect(c1)
-- quit in the middle of a message
local c2 = open_conn("mx.acme.com", "198.51.100.7")
mt.macro(c2, SMFIC_MAIL, "i", "CLOSE2")
check(mt.mailfrom(c2, "<dave@acme.com>") == nil, "MAIL FROM")
check(mt.rcptto(c2, "<alice@example.com>") == nil, "RCPT TO")
check(mt.header(c2, "Message-ID", "<close-2@acme.com>") == nil, "header")
check(mt.bodystring(c2, "cut off") == nil, "body")
mt.disconnect(c2)
-- abrupt disconnect, no quit
local c3 = open_conn("mx.acme.com", "198.51.100.7")
check(mt.mailfrom(c3, "<dave@acme.com>") == nil, "MAIL FROM 3")
mt.disconnect(c3, false)
-- the daemon still serves a normal message afterwards
local c4 = open_conn("mx.acme.com", "198.51.100.7")
send_message(c4, {macros = {i = "CLOSE4"}, from = "<dave@acme.com>",
	rcpts = {"<alice@example.com>"},
	headers = headers("close-4@acme.com", "dave@acme.com", "alice@example.com", "After the early closes")})
mt.disconnect(c4)
