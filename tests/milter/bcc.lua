-- bcc.lua - recipients that only RCPT TO shows (Bcc, expanded aliases)
dofile(lib)
local conn = open_conn("mx.acme.com", "198.51.100.7")
send_message(conn, {macros = {i = "BCC1"}, from = "<dave@acme.com>",
	rcpts = {"<alice@example.com>", "<Secret@EXAMPLE.com>", "<sales-team@example.com>",
	         "<alice@example.com>"},
	headers = headers("bcc-1@acme.com", "dave@acme.com", "alice@example.com", "Bcc")})
mt.disconnect(conn)
