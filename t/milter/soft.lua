-- soft.lua - -m soft turns every 5xx into 4xx (like Postfix soft_bounce);
-- -t sets the tempfail code
dofile(COMMON)
start("-m", "soft", "-t", "451")
local conn = open("mx.remote.example", "192.0.2.10")
mail(conn, "<bounce@mx.remote.example>")
rcpt(conn, "<nobody@news.example.org>", SMFIR_REPLYCODE)
rcpt(conn, "<busy@news.example.org>", SMFIR_REPLYCODE)
rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
header(conn, "X-AGNLoop", "set")
finish(conn, SMFIR_REPLYCODE)
mt.disconnect(conn)
