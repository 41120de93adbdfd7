-- macros.lua - no macros at all and an unknown client family: still logged
dofile(lib)
local conn = open_conn("localhost", "unspec")
send_message(conn, {from = "<dave@acme.com>", rcpts = {"<alice@example.com>"},
	headers = headers("nomacro-1@acme.com", "dave@acme.com", "alice@example.com", "No macros")})
mt.disconnect(conn)
