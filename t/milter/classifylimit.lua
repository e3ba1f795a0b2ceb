-- classifylimit.lua - -B 400: only the first 400 bytes reach the
-- classifier; the header says truncated=yes
dofile(COMMON)
start("-k", "-B", "400")
local conn = open("mx1.example.org", "192.0.2.25")
mail(conn, "<>")
rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
send_file(conn, TOP .. "/contrib/examples/dsn-userunknown.eml")
local v = mt.getheader(conn, "X-Bav-Classification", 0)
check(v ~= nil and v:find("; truncated=yes$") ~= nil, "truncated: " .. tostring(v))
mt.disconnect(conn)
