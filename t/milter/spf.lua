-- spf.lua - -S: SPF of MAIL FROM (of HELO for the null sender) as an
-- RFC 8601 Authentication-Results field at the top; DNS comes from
-- t/milter/spf.zone (-Z), never from the network; a forged field with
-- our authserv-id is removed
dofile(COMMON)
start("-S", "-A", "mx.bav.test", "-Z", TOP .. "/t/milter/spf.zone")

local function ar(ip, helo, from, want, forged)
	local conn = open("client.example", ip)
	check(mt.helo(conn, helo) == nil, "helo")
	mail(conn, from)
	rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
	if forged then
		header(conn, "Authentication-Results", "mx.bav.test; spf=pass smtp.mailfrom=x@sender.example")
		header(conn, "Authentication-Results", "other.example; spf=fail")
	end
	header(conn, "Subject", "spf")
	finish(conn)
	check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results", want),
	      "want " .. want .. ", got " ..
	      tostring(mt.getheader(conn, "Authentication-Results", 0)))
	if forged then
		check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
		      "forged field deleted")
	end
	mt.disconnect(conn)
end

ar("192.0.2.25", "mx.sender.example", "<news@sender.example>",
   "mx.bav.test; spf=pass smtp.mailfrom=news@sender.example")
ar("198.51.100.7", "mx.evil.example", "<news@sender.example>",
   "mx.bav.test; spf=fail smtp.mailfrom=news@sender.example", true)
ar("198.51.100.7", "mx.evil.example", "<a@softfail.example>",
   "mx.bav.test; spf=softfail smtp.mailfrom=a@softfail.example")
ar("198.51.100.7", "mx.evil.example", "<a@nowhere.example>",
   "mx.bav.test; spf=none smtp.mailfrom=a@nowhere.example")
ar("192.0.2.25", "helo.example", "<>",
   "mx.bav.test; spf=pass smtp.helo=helo.example")
