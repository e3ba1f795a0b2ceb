-- replies.lua - enforce mode: every RCPT verdict of the table and the
-- X-AGNMailloop / X-AGNLoop headers for a remote client (spec 2.4)
dofile(COMMON)
start()
local conn = open("mx.remote.example", "192.0.2.10")
mail(conn, "<bounce@mx.remote.example>")
rcpt(conn, "<reply_12@news.example.org>", SMFIR_CONTINUE)	-- alias
rcpt(conn, "<nobody@news.example.org>", SMFIR_REPLYCODE)	-- 550 5.1.1
rcpt(conn, "<busy@news.example.org>", SMFIR_REPLYCODE)		-- 400 4.0.0
rcpt(conn, "<gone@news.example.org>", SMFIR_REPLYCODE)		-- reject entry
rcpt(conn, "<Known@NEWS.example.org>", SMFIR_CONTINUE)		-- case
rcpt(conn, "<x@mail01.example.net>", SMFIR_CONTINUE)		-- @domain
rcpt(conn, "<y@elsewhere.example>", SMFIR_CONTINUE)		-- relay
header(conn, "From", "someone <bounce@mx.remote.example>")
header(conn, "X-AGNMailloop", "from=<forged>,rid=99")
header(conn, "x-agnmailloop", "from=<forged2>")
finish(conn)
check(added(conn, "X-AGNMailloop",
	"from=<bounce@mx.remote.example>,rid=12,cid=1,fwd=info@example.org,ar=12,armid=345,to=<reply_12@news.example.org>,rid=7,cid=1,to=<Known@NEWS.example.org>,rid=local,to=<x@mail01.example.net>,rid=relay,to=<y@elsewhere.example>"),
      "X-AGNMailloop value (no to= for refused recipients)")
check(added(conn, "X-AGNLoop", "set"), "X-AGNLoop: set added")
check(mt.eom_check(conn, MT_HDRDELETE, "X-AGNMailloop"),
      "incoming X-AGNMailloop deleted")

-- a second message on the same connection starts afresh; commas in the
-- envelope become '_'
mail(conn, "<a,b@mx.remote.example>")
rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
finish(conn)
check(added(conn, "X-AGNMailloop",
	"from=<a_b@mx.remote.example>,rid=7,cid=1,to=<known@news.example.org>"),
      "second transaction")
check(not mt.eom_check(conn, MT_HDRDELETE), "nothing to delete")

-- control characters in the envelope never reach the header
mail(conn, "<a\r\nX-Evil: 1@mx.remote.example>")
rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
finish(conn)
check(added(conn, "X-AGNMailloop",
	"from=<a__X-Evil: 1@mx.remote.example>,rid=7,cid=1,to=<known@news.example.org>"),
      "control characters replaced")
mt.disconnect(conn)
