-- t/milter/common.lua - helpers shared by the miltertest scripts.
-- Globals set by run.sh with -D: MILTER (the bav-milter binary), TABLE
-- (a private copy of bav.conf), SOCK (unix:... socket), TMP (scratch dir),
-- TOP (the source tree).

function check(cond, what)
	if not cond then
		error("FAILED: " .. what)
	end
end

-- start bav-milter with extra options and wait until it accepts connections
function start(...)
	mt.startfilter(MILTER, "-s", SOCK, "-c", TABLE, "-L", "debug",
		       "-r", "1", "-p", TMP .. "/pid", ...)
end

-- want: SMFIR_CONTINUE (default), or SMFIR_ACCEPT for a local client
-- (the MTA then stops calling the filter for this connection)
function open(host, ip, want)
	local conn = mt.connect(SOCK, 100, 0.05)
	check(conn ~= nil, "connect to the filter")
	check(mt.conninfo(conn, host, ip) == nil, "conninfo")
	check(mt.getreply(conn) == (want or SMFIR_CONTINUE), "connect " ..
	      ip .. ": reply " .. tostring(mt.getreply(conn)))
	return conn
end

function mail(conn, from)
	check(mt.mailfrom(conn, from) == nil, "mailfrom " .. from)
	check(mt.getreply(conn) == SMFIR_CONTINUE, "MAIL FROM " .. from .. ": continue")
end

-- want: SMFIR_CONTINUE (accepted) or SMFIR_REPLYCODE (refused with a
-- reply; the code itself is checked in the log, see *.expect)
function rcpt(conn, to, want)
	check(mt.rcptto(conn, to) == nil, "rcptto " .. to)
	check(mt.getreply(conn) == want, "RCPT " .. to .. ": reply " ..
	      tostring(mt.getreply(conn)) .. ", want " .. tostring(want))
end

function header(conn, name, value, want)
	check(mt.header(conn, name, value) == nil, "header " .. name)
	check(mt.getreply(conn) == (want or SMFIR_CONTINUE),
	      "header " .. name .. ": reply " .. tostring(mt.getreply(conn)))
end

-- end of headers, end of message (bav-milter negotiates no body, and
-- miltertest stops when a script sends a step the filter declined)
-- want: nil (continue/accept) or SMFIR_REPLYCODE (refused at eom)
function finish(conn, want)
	check(mt.eoh(conn) == nil, "eoh")
	check(mt.eom(conn) == nil, "eom")
	if want then
		check(mt.getreply(conn) == want, "eom: reply " ..
		      tostring(mt.getreply(conn)))
	else
		check(mt.getreply(conn) == SMFIR_CONTINUE or
		      mt.getreply(conn) == SMFIR_ACCEPT, "eom: continue")
	end
end

function added(conn, name, value)
	return mt.eom_check(conn, MT_HDRADD, name, value)
end

-- replace the table file (for the reload scripts)
function write_table(text)
	local f = assert(io.open(TMP .. "/new.conf", "w"))
	f:write(text)
	f:close()
	assert(os.rename(TMP .. "/new.conf", TABLE))
end

-- send a message file: its header fields (continuation lines joined with
-- "\n", as an MTA passes them), end of header, and the body
function send_file(conn, path)
	local f = assert(io.open(path, "r"))
	local text = f:read("*a")
	f:close()
	local head, body = text:match("^(.-)\n\n(.*)$")
	local name, value
	for line in (head .. "\n"):gmatch("(.-)\n") do
		if line:match("^[ \t]") and name then
			value = value .. "\n" .. line
		else
			if name then header(conn, name, value) end
			name, value = line:match("^([^:]+):[ \t]*(.*)$")
		end
	end
	if name then header(conn, name, value) end
	check(mt.eoh(conn) == nil, "eoh")
	check(mt.bodystring(conn, (body:gsub("\r?\n", "\r\n"))) == nil, "body")
	check(mt.eom(conn) == nil, "eom")
	check(mt.getreply(conn) == SMFIR_CONTINUE or
	      mt.getreply(conn) == SMFIR_ACCEPT, "eom: continue")
end
