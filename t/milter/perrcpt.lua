-- perrcpt.lua - -H writes one X-AGNMailloop per accepted recipient
dofile(COMMON)
start("-H")
local conn = open("mx.remote.example", "192.0.2.10")
mail(conn, "<bounce@mx.remote.example>")
rcpt(conn, "<reply_12@news.example.org>", SMFIR_CONTINUE)
rcpt(conn, "<nobody@news.example.org>", SMFIR_REPLYCODE)
rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
finish(conn)
check(added(conn, "X-AGNMailloop",
	"from=<bounce@mx.remote.example>,rid=12,cid=1,fwd=info@example.org,ar=12,armid=345,to=<reply_12@news.example.org>"),
      "first recipient's header")
check(added(conn, "X-AGNMailloop",
	"from=<bounce@mx.remote.example>,rid=7,cid=1,to=<known@news.example.org>"),
      "second recipient's header")
check(mt.getheader(conn, "X-AGNMailloop", 1) ~= nil, "two headers")
check(added(conn, "X-AGNLoop", "set"), "X-AGNLoop added")
mt.disconnect(conn)
