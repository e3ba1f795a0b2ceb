-- t/hostile/pcrelimit.lua - driven by t/hostile/pcrelimit.sh: bav-milter
-- -k -K RULES classifies a message whose Subject makes a rule backtrack
-- exponentially; the verdict must come (the limit counts as no match),
-- the log line naming the rule is checked by the shell script.
dofile(COMMON)
start("-k", "-K", RULES)
local conn = open("mx1.example.org", "192.0.2.25")
mail(conn, "<a@example.net>")
rcpt(conn, "<known@news.example.org>", SMFIR_CONTINUE)
send_file(conn, MSG)
local v = mt.getheader(conn, "X-Bav-Classification", 0)
check(v ~= nil and v:find("^kind=reply") ~= nil, "verdict: " .. tostring(v))
mt.disconnect(conn)
