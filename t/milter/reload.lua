-- reload.lua - the table is swapped on SIGHUP and when its mtime changes
-- (-r 1); a broken file is logged and the last good table kept; a
-- connection keeps the table it started with
dofile(COMMON)
start()
local function verdict(to, want)
	local conn = open("mx.remote.example", "192.0.2.10")
	mail(conn, "<b@mx.remote.example>")
	rcpt(conn, to, want)
	mt.disconnect(conn)
end

verdict("<new@news.example.org>", SMFIR_REPLYCODE)
local old = open("mx.remote.example", "192.0.2.10")

-- 1. SIGHUP
write_table("known@news.example.org\taccept:rid=7\nnew@news.example.org\taccept:rid=8\n")
mt.signal(1)
mt.sleep(0.5)
verdict("<new@news.example.org>", SMFIR_CONTINUE)
-- the open connection still uses its table
mail(old, "<b@mx.remote.example>")
rcpt(old, "<new@news.example.org>", SMFIR_REPLYCODE)
mt.disconnect(old)

-- 2. a broken file (truncated last line) keeps the last good table
write_table("known@news.example.org\taccept:rid=7\nnew@news.example.org\taccept:ri")
mt.signal(1)
mt.sleep(0.5)
verdict("<new@news.example.org>", SMFIR_CONTINUE)
verdict("<known@news.example.org>", SMFIR_CONTINUE)

-- 3. mtime change without a signal (checked every second)
write_table("known@news.example.org\taccept:rid=7\n")
mt.sleep(2.5)
verdict("<new@news.example.org>", SMFIR_REPLYCODE)
-- still alive after all that: SIGHUP did not stop it
verdict("<known@news.example.org>", SMFIR_CONTINUE)
