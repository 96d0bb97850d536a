-- Answers "CHECK MODULES" with one row per helper-module check: name, result.
local proto = require("mysql.proto")
local password = require("mysql.password")
local tokenizer = require("proxy.tokenizer")
local commands = require("proxy.commands")
local auto_config = require("proxy.auto-config")

local function checks()
	local challenge = proto.from_challenge_packet(proto.to_challenge_packet({ challenge = ("a"):rep(20), thread_id = 7 }))
	local err = proto.from_err_packet(proto.to_err_packet({ errcode = 1064, sqlstate = "42000", errmsg = "bad" }))
	local ok = proto.from_ok_packet(proto.to_ok_packet({ affected_rows = 300, insert_id = 70000 }))
	local auth = proto.from_response_packet(proto.to_response_packet({ username = "u", response = ("r"):rep(20), database = "d" }))
	local hashed = password.hash("secret")
	local response = password.scramble(("c"):rep(20), hashed)
	local cmd = commands.parse(string.char(proxy.COM_INIT_DB) .. "shop")
	return {
		{ "_VERSION", _VERSION },
		{ "challenge", ("%d %d %s %d"):format(challenge.server_version, challenge.thread_id, challenge.challenge, challenge.protocol_version) },
		{ "err", ("%d %s %s"):format(err.errcode, err.sqlstate, err.errmsg) },
		{ "ok", ("%d %d"):format(ok.affected_rows, ok.insert_id) },
		{ "response", ("%s %s %d"):format(auth.username, auth.database, #auth.response) },
		{ "password", tostring(password.check(("c"):rep(20), response, password.hash(hashed))) },
		{ "normalize", tokenizer.normalize(tokenizer.tokenize("select a, `b` from t where id = 10 and n in ('x', 2.5) -- c")) },
		{ "first", tokenizer.first_stmt_token(tokenizer.tokenize("/* hi */ INSERT INTO t VALUES (1)")).token_name },
		{ "commands", cmd.type_name .. " " .. cmd.schema },
		{ "constants", ("%d %d %d %d %d"):format(proxy.COM_QUERY, proxy.MYSQL_TYPE_LONGLONG, proxy.BACKEND_STATE_DOWN, proxy.PROXY_IGNORE_RESULT, proxy.PROXY_VERSION) },
		{ "scramble", (response:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) },
	}
end

function read_query(packet)
	local handled = auto_config.handle(commands.parse(packet))
	if handled then return handled end
	if packet:sub(2) ~= "CHECK MODULES" then return end
	proxy.response = {
		type = proxy.MYSQLD_PACKET_OK,
		resultset = { fields = { { name = "check", type = proxy.MYSQL_TYPE_STRING }, { name = "result", type = proxy.MYSQL_TYPE_STRING } }, rows = checks() },
	}
	return proxy.PROXY_SEND_RESULT
end
