-- logonly.lua - -m log-only logs what enforce would do and accepts
-- everything; the headers are still written
dofile(COMMON)
start("-m", "log-only")
local conn = open("mx.remote.example", "192.0.2.10")
mail(conn, "<bounce@mx.remote.example>")
rcpt(conn, "<nobody@news.example.org>", SMFIR_CONTINUE)
rcpt(conn, "<busy@news.example.org>", SMFIR_CONTINUE)
rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
header(conn, "X-AGNLoop", "set")
finish(conn)
check(added(conn, "X-AGNMailloop",
	"from=<bounce@mx.remote.example>,to=<nobody@news.example.org>,to=<busy@news.example.org>,rid=7,cid=1,to=<known@news.example.org>"),
      "X-AGNMailloop in log-only mode")
check(added(conn, "X-AGNLoop", "set"), "X-AGNLoop added")
mt.disconnect(conn)
