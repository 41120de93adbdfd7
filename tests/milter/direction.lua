-- direction.lua - outbound by authentication, by daemon name, by client address
dofile(lib)
local function one(id, ip, cmacros, mmacros, from, to)
	local conn = open_conn("client.example.net", ip, cmacros)
	send_message(conn, {macros = mmacros, from = "<" .. from .. ">", rcpts = {"<" .. to .. ">"},
		headers = headers(id, from, to, "Direction " .. id)})
	mt.disconnect(conn)
end
one("dir-auth@example.com", "198.51.100.7", {["{daemon_name}"] = "smtpd"},
    {i = "DIRAUTH", ["{auth_authen}"] = "alice"}, "alice@example.com", "dave@acme.com")
one("dir-daemon@example.com", "198.51.100.7", {["{daemon_name}"] = "ORIGINATING"},
    {i = "DIRDAEMON"}, "alice@example.com", "dave@acme.com")
one("dir-host@example.com", "10.1.2.3", {["{daemon_name}"] = "smtpd"},
    {i = "DIRHOST"}, "alice@example.com", "dave@acme.com")
one("dir-host6@example.com", "2001:db8::25", {["{daemon_name}"] = "smtpd"},
    {i = "DIRHOST6"}, "alice@example.com", "dave@acme.com")
one("dir-in@acme.com", "198.51.100.7", {["{daemon_name}"] = "smtpd"},
    {i = "DIRIN"}, "dave@acme.com", "alice@example.com")
one("dir-int@example.com", "198.51.100.7", {["{daemon_name}"] = "smtpd"},
    {i = "DIRINT", ["{auth_authen}"] = "alice"}, "alice@example.com", "bob@example.com")
