-- t/hostile/milter.lua - the well-behaved client of t/hostile/milter.sh:
-- after the garbage, bav-milter (already running on SOCK) still answers:
-- a known recipient continues, a gone one is refused.
local function check(cond, what)
	if not cond then
		error("FAILED: " .. what)
	end
end
for i = 1, 2 do
	local conn = mt.connect(SOCK, 40, 0.25)
	check(conn ~= nil, "connect to the filter")
	check(mt.conninfo(conn, "remote.example", "192.0.2.7") == nil, "conninfo")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "connect: continue")
	check(mt.mailfrom(conn, "<x@remote.example>") == nil, "mailfrom")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "MAIL FROM: continue")
	check(mt.rcptto(conn, "<known@news.example.org>") == nil, "rcptto known")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "RCPT known: continue, got " ..
	      tostring(mt.getreply(conn)))
	check(mt.rcptto(conn, "<gone@news.example.org>") == nil, "rcptto gone")
	check(mt.getreply(conn) == SMFIR_REPLYCODE, "RCPT gone: refused, got " ..
	      tostring(mt.getreply(conn)))
	mt.disconnect(conn)
end
