-- classify.lua - -k: the message is classified at end of message and the
-- verdict written as X-Bav-Classification (a forged one is removed); -B
-- limits what is kept and says so
dofile(COMMON)
start("-k", "-B", "100000")
local conn = open("mx1.example.org", "192.0.2.25")
mail(conn, "<>")
rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
header(conn, "X-Bav-Classification", "kind=reply; forged")
send_file(conn, TOP .. "/contrib/examples/dsn-userunknown.eml")
check(added(conn, "X-Bav-Classification",
	"kind=bounce; reason=userunknown; hard=yes; detail=511; status=5.1.1; recipients=1"),
      "verdict header: " .. tostring(mt.getheader(conn, "X-Bav-Classification", 0)))
check(mt.eom_check(conn, MT_HDRDELETE, "X-Bav-Classification"), "forged verdict removed")
check(added(conn, "X-AGNMailloop", "from=<>,rid=7,cid=1,to=<known@news.example.org>"),
      "X-AGNMailloop as usual")
mt.disconnect(conn)
