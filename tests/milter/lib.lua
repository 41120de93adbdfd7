-- lib.lua - helpers shared by the miltertest scripts (loaded with dofile)
--
-- Each script is run as: miltertest -D sock=SPEC -D lib=PATH/lib.lua -s SCRIPT
-- and fails (non-zero exit) through error() on the first unmet expectation.
local unpack = table.unpack or unpack

-- check - stop the script with WHAT unless COND holds
function check(cond, what)
	if not cond then
		error("FAILED: " .. what)
	end
end

-- what a current Postfix offers: every step may be skipped, no-reply steps,
-- header values with their leading space
MTA_STEPS = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY |
	SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_SKIP |
	SMFIP_RCPT_REJ | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
	SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY |
	SMFIP_HDR_LEADSPC

-- open_conn - connect, negotiate, send connect macros (a table) and conninfo
function open_conn(host, ip, macros)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect to " .. sock)
	check(mt.negotiate(conn, nil, nil, MTA_STEPS) == nil, "negotiate")
	if macros then
		local args = {}
		for k, v in pairs(macros) do
			table.insert(args, k)
			table.insert(args, v)
		end
		mt.macro(conn, SMFIC_CONNECT, unpack(args))
	end
	check(mt.conninfo(conn, host, ip) == nil, "conninfo")
	return conn
end

-- send_message - one transaction ending in EOM, which must answer ACCEPT
--   m = { macros = {i = "QID", ...}, from = "<a@b>", rcpts = {...},
--         headers = {{"Name", "value"}, ...}, body = "text" or {chunks} }
function send_message(conn, m)
	if m.macros then
		local args = {}
		for k, v in pairs(m.macros) do
			table.insert(args, k)
			table.insert(args, v)
		end
		mt.macro(conn, SMFIC_MAIL, unpack(args))
	end
	check(mt.mailfrom(conn, m.from or "<>") == nil, "MAIL FROM")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "MAIL FROM continues")
	for _, r in ipairs(m.rcpts or {}) do
		check(mt.rcptto(conn, r) == nil, "RCPT TO " .. r)
		check(mt.getreply(conn) == SMFIR_CONTINUE, "RCPT TO continues")
	end
	for _, h in ipairs(m.headers or {}) do
		check(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
		check(mt.getreply(conn) == SMFIR_CONTINUE, "header continues")
	end
	local body = m.body or "Hello.\r\n"
	if type(body) == "string" then
		body = {body}
	end
	for _, chunk in ipairs(body) do
		check(mt.bodystring(conn, chunk) == nil, "body chunk")
		check(mt.getreply(conn) == SMFIR_CONTINUE, "body continues")
	end
	check(mt.eom(conn) == nil, "EOM")
	check(mt.getreply(conn) == SMFIR_ACCEPT, "EOM accepts")
	check(not mt.eom_check(conn, MT_HDRADD) and not mt.eom_check(conn, MT_HDRCHANGE) and
	      not mt.eom_check(conn, MT_HDRDELETE) and not mt.eom_check(conn, MT_BODYCHANGE) and
	      not mt.eom_check(conn, MT_QUARANTINE),
	      "EOM changes nothing")
end

-- headers - the usual header block for message ID with subject and addresses
function headers(id, from, to, subject)
	return {
		{"From", from},
		{"To", to},
		{"Subject", subject},
		{"Date", "Mon, 01 Jan 2024 10:00:00 +0000"},
		{"Message-ID", "<" .. id .. ">"},
	}
end
