-- dkim.lua - -V: DKIM signatures verified at end of message (key from
-- t/milter/dkim.keys, -D, no DNS) and reported in Authentication-Results;
-- a changed header fails. -V negotiates SMFIP_HDR_LEADSPC (header values
-- as received, the space after the colon included), so the fields the
-- filter adds start with a space.
dofile(COMMON)
start("-V", "-A", "mx.bav.test", "-D", TOP .. "/t/milter/dkim.keys")
local conn = open("mx.sender.example", "192.0.2.25")
mail(conn, "<news@sender.example>")
rcpt(conn, "<reply_12@news.example.org>", SMFIR_CONTINUE)
send_file(conn, TOP .. "/t/milter/dkim-signed.eml")
check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
	" mx.bav.test; dkim=pass header.d=sender.example header.s=bav2024"),
      "dkim pass: " .. tostring(mt.getheader(conn, "Authentication-Results", 0)))
check(added(conn, "X-AGNLoop", " set"), "the usual headers too")

-- the same message with another Subject
local f = assert(io.open(TOP .. "/t/milter/dkim-signed.eml"))
local text = f:read("*a"):gsub("Subject: Re: March newsletter", "Subject: Re: April newsletter")
f:close()
local tmp = assert(io.open(TMP .. "/changed.eml", "w"))
tmp:write(text)
tmp:close()
mail(conn, "<news@sender.example>")
rcpt(conn, "<reply_12@news.example.org>", SMFIR_CONTINUE)
send_file(conn, TMP .. "/changed.eml")
local v = mt.getheader(conn, "Authentication-Results", 0)
check(v ~= nil and v:find("^ mx.bav.test; dkim=fail ") ~= nil and
      v:find("header.d=sender.example header.s=bav2024$") ~= nil,
      "dkim fail: " .. tostring(v))

-- unsigned
mail(conn, "<news@sender.example>")
rcpt(conn, "<reply_12@news.example.org>", SMFIR_CONTINUE)
header(conn, "From", "news@sender.example")
finish(conn)
check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
	" mx.bav.test; dkim=none"), "unsigned: " ..
      tostring(mt.getheader(conn, "Authentication-Results", 0)))
mt.disconnect(conn)
