-- local.lua - clients in the local list (default 127.0.0.0/8 and ::1,
-- IPv4-mapped too) pass untouched: the filter answers ACCEPT at connect,
-- so the MTA sends it nothing more for the connection: no lookup, no
-- loop check, their own X-AGNMailloop kept, nothing added (spec 2.6)
dofile(COMMON)
start()
for _, ip in ipairs({ "127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1" }) do
	local conn = open("localhost", ip, SMFIR_ACCEPT)
	mt.disconnect(conn)
end

-- not local: other addresses, and IPv6 that merely ends in 127.0.0.1
for _, ip in ipairs({ "192.0.2.1", "::2", "2001:db8::7f00:1", "::ffff:192.0.2.1" }) do
	local conn = open("remote.example", ip)
	mail(conn, "<x@remote.example>")
	rcpt(conn, "<nobody@news.example.org>", SMFIR_REPLYCODE)
	mt.disconnect(conn)
end
