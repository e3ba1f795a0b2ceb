-- localnames.lua - -h: clients whose verified name is in the list are
-- local (exact names, ".suffix" entries); "unknown", "[address]" and
-- names Sendmail could not verify ({client_resolve} other than OK) never
dofile(COMMON)
start("-h", "relay.example.org, .internal.example")
for _, name in ipairs({ "relay.example.org", "RELAY.Example.ORG",
			"mx1.internal.example" }) do
	mt.disconnect(open(name, "192.0.2.1", SMFIR_ACCEPT))
end
for _, name in ipairs({ "internal.example", "evilrelay.example.org",
			"relay.example.org.evil.example", "unknown",
			"[192.0.2.1]" }) do
	mt.disconnect(open(name, "192.0.2.1", SMFIR_CONTINUE))
end
-- Sendmail: a name that failed forward confirmation is not trusted
local conn = mt.connect(SOCK, 100, 0.05)
check(conn ~= nil, "connect")
check(mt.macro(conn, SMFIC_CONNECT, "{client_resolve}", "FAIL") == nil, "macro")
check(mt.conninfo(conn, "relay.example.org", "192.0.2.1") == nil, "conninfo")
check(mt.getreply(conn) == SMFIR_CONTINUE, "unverified name is not local")
mt.disconnect(conn)
conn = mt.connect(SOCK, 100, 0.05)
check(mt.macro(conn, SMFIC_CONNECT, "{client_resolve}", "OK") == nil, "macro")
check(mt.conninfo(conn, "relay.example.org", "192.0.2.1") == nil, "conninfo")
check(mt.getreply(conn) == SMFIR_ACCEPT, "verified name is local")
mt.disconnect(conn)
