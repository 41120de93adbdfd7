-- headers.lua - 8-bit and huge headers, folded lines, rebuilt byte for byte
-- (values are given without the leading space: with SMFIP_HDR_LEADSPC
-- negotiated miltertest sends it, as Postfix does)
-- (miltertest itself cannot send one header field over 1 KB, so the
-- header block is made huge (540 KB) by 600 fields of 900 bytes)
dofile(lib)
local conn = open_conn("mx.acme.com", "198.51.100.7")
local huge = {}
for i = 1, 40 do
	huge[#huge + 1] = "<ref-" .. i .. "@acme.com>"
end
local trace = string.rep("x", 900)
local hdrs = {
		{"From", "\"J\195\188rgen M\195\188ller\" <dave@acme.com>"},
		{"To", "alice@example.com"},
		{"Subject", "Gr\195\188\195\159e aus K\195\182ln"},
		{"Date", "Mon, 01 Jan 2024 10:00:00 +0000"},
		{"Message-ID", "<hdr-1@acme.com>"},
		{"References", table.concat(huge, "\r\n ")},
		{"X-Folded", "first\r\n\tsecond"},
		{"X-Tight", "value"},
}
for i = 1, 600 do
	hdrs[#hdrs + 1] = {"X-Trace", string.format("%03d %s", i, trace)}
end
send_message(conn, {macros = {i = "HDR1"}, from = "<dave@acme.com>",
	rcpts = {"<alice@example.com>"},
	headers = hdrs,
	body = {"Line one\r\n", "Line two \226\130\172\r\n"}})
mt.disconnect(conn)
