-- local.lua - clients in the local list (default 127.0.0.0/8 and ::1,
-- IPv4-mapped too) pass untouched: no lookup, no loop check, their own
-- X-AGNMailloop kept, nothing added (spec 2.6; 8.4 item 3)
dofile(COMMON)
start()
for _, ip in ipairs({ "127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1" }) do
	local conn = open("localhost", ip)
	mail(conn, "<app@localhost>")
	rcpt(conn, "<nobody@news.example.org>", SMFIR_CONTINUE)
	rcpt(conn, "<busy@news.example.org>", SMFIR_CONTINUE)
	header(conn, "X-AGNMailloop", "from=<app@localhost>,rid=7")
	header(conn, "X-AGNLoop", "set")
	finish(conn)
	check(not mt.eom_check(conn, MT_HDRADD), ip .. ": nothing added")
	check(not mt.eom_check(conn, MT_HDRDELETE), ip .. ": nothing deleted")
	mt.disconnect(conn)
end

-- not local: other addresses, and IPv6 that merely ends in 127.0.0.1
for _, ip in ipairs({ "192.0.2.1", "::2", "2001:db8::7f00:1" }) do
	local conn = open("remote.example", ip)
	mail(conn, "<x@remote.example>")
	rcpt(conn, "<nobody@news.example.org>", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end
