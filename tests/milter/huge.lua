-- huge.lua - a message larger than MaxMessageSize: header and the start of the body kept
dofile(lib)
local conn = open_conn("mx.acme.com", "198.51.100.7")
local chunks = {}
local line = string.rep("0123456789", 7) .. "\r\n"
local chunk = string.rep(line, 800)		-- 57.6 KB
for i = 1, 6 do
	chunks[#chunks + 1] = chunk
end
send_message(conn, {macros = {i = "HUGE1"}, from = "<dave@acme.com>",
	rcpts = {"<alice@example.com>"},
	headers = headers("huge-1@acme.com", "dave@acme.com", "alice@example.com", "Huge"),
	body = chunks})
mt.disconnect(conn)
