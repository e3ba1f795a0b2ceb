-- loop.lua - a remote message that already carries X-AGNLoop (any case)
-- is refused with 500 5.4.6 Loop detected; the refusal comes at end of
-- message (headers need no reply), which is where an SMTP client sees
-- it anyway: after DATA
dofile(COMMON)
start()
local conn = open("mx.remote.example", "192.0.2.10")
mail(conn, "<bounce@mx.remote.example>")
rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
header(conn, "Subject", "Re: your mail")
header(conn, "x-agnloop", "set")
finish(conn, SMFIR_REPLYCODE)
check(not mt.eom_check(conn, MT_HDRADD), "nothing added to a refused message")

-- the next message on the connection is not affected
mail(conn, "<bounce@mx.remote.example>")
rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
header(conn, "Subject", "fresh")
finish(conn)
check(added(conn, "X-AGNLoop", "set"), "X-AGNLoop added")
mt.disconnect(conn)
