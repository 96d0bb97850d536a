-- mysql.proto: builds and parses MySQL protocol payloads (without the 4-byte packet header).
local bit = require("bit")
local ffi = require("ffi")

local M = {}
local char, byte, sub, find = string.char, string.byte, string.sub, string.find

local CLIENT = {
	LONG_PASSWORD = 0x1, LONG_FLAG = 0x4, CONNECT_WITH_DB = 0x8, PROTOCOL_41 = 0x200,
	TRANSACTIONS = 0x2000, SECURE_CONNECTION = 0x8000, MULTI_STATEMENTS = 0x10000,
	MULTI_RESULTS = 0x20000, PLUGIN_AUTH = 0x80000, PLUGIN_AUTH_LENENC = 0x200000,
}
M.CLIENT = CLIENT

local function has(flags, flag) return bit.band(flags, flag) ~= 0 end

local function int_le(n, bytes)
	local out = {}
	for i = 1, bytes do
		out[i] = char(n % 256)
		n = math.floor(n / 256)
	end
	return table.concat(out)
end

local function lenenc(n)
	if n < 251 then return char(n) end
	if n < 65536 then return "\252" .. int_le(n, 2) end
	if n < 16777216 then return "\253" .. int_le(n, 3) end
	return "\254" .. int_le(n, 8)
end
M.int_le, M.lenenc = int_le, lenenc

-- A cursor over a payload; a short packet raises "packet too short".
local Reader = {}
Reader.__index = Reader

local function reader(packet)
	if type(packet) ~= "string" then error("expected a packet (string), got " .. type(packet), 3) end
	return setmetatable({ s = packet, pos = 1 }, Reader)
end

function Reader:int(bytes)
	local v, m = 0, 1
	for i = 0, bytes - 1 do
		local b = byte(self.s, self.pos + i)
		if not b then error("mysql.proto: packet too short", 3) end
		v = v + b * m
		m = m * 256
	end
	self.pos = self.pos + bytes
	return v
end

function Reader:lenenc()
	local first = self:int(1)
	if first < 251 then return first end
	if first == 251 then return nil end
	return self:int(first == 252 and 2 or first == 253 and 3 or 8)
end

function Reader:bytes(n)
	local v = sub(self.s, self.pos, self.pos + n - 1)
	if #v < n then error("mysql.proto: packet too short", 3) end
	self.pos = self.pos + n
	return v
end

function Reader:lenenc_string()
	local n = self:lenenc()
	return n and self:bytes(n)
end

function Reader:nul_string()
	local e = find(self.s, "\0", self.pos, true)
	if not e then return self:rest() end
	local v = sub(self.s, self.pos, e - 1)
	self.pos = e + 1
	return v
end

function Reader:rest()
	local v = sub(self.s, self.pos)
	self.pos = #self.s + 1
	return v
end

function Reader:left() return #self.s - self.pos + 1 end
function Reader:peek() return byte(self.s, self.pos) end

local function expect_header(r, header, what)
	local got = r:int(1)
	if got ~= header then error(("mysql.proto: not a%s packet (first byte %d)"):format(what, got), 3) end
end

-- ERR ------------------------------------------------------------------

function M.to_err_packet(t)
	return "\255" .. int_le(t.errcode or 1105, 2) .. "#" .. (t.sqlstate or "07000") .. (t.errmsg or "")
end

function M.from_err_packet(packet)
	local r = reader(packet)
	expect_header(r, 255, "n ERR")
	local t = { errcode = r:int(2) }
	if r:peek() == 35 then
		r:bytes(1)
		t.sqlstate = r:bytes(5)
	end
	t.errmsg = r:rest()
	return t
end

-- OK / EOF -------------------------------------------------------------

function M.to_ok_packet(t)
	t = t or {}
	return "\0" .. lenenc(t.affected_rows or 0) .. lenenc(t.insert_id or 0) .. int_le(t.server_status or 2, 2)
		.. int_le(t.warnings or 0, 2) .. (t.message or "")
end

function M.from_ok_packet(packet)
	local r = reader(packet)
	expect_header(r, 0, "n OK")
	local t = { affected_rows = r:lenenc(), insert_id = r:lenenc() }
	t.server_status = r:int(2)
	t.warnings = r:int(2)
	t.message = r:rest()
	return t
end

function M.to_eof_packet(t)
	t = t or {}
	return "\254" .. int_le(t.warnings or 0, 2) .. int_le(t.server_status or 2, 2)
end

function M.from_eof_packet(packet)
	local r = reader(packet)
	expect_header(r, 254, "n EOF")
	return { warnings = r:int(2), server_status = r:int(2) }
end

-- The greeting (HandshakeV10) ------------------------------------------

local function version_string(v)
	if type(v) == "string" then return v end
	return ("%d.%d.%d"):format(math.floor(v / 10000), math.floor(v / 100) % 100, v % 100)
end

local function version_number(s)
	local a, b, c = s:match("^5%.5%.5%-(%d+)%.(%d+)%.(%d+)")
	if not a then a, b, c = s:match("^(%d+)%.(%d+)%.(%d+)") end
	return a and (a * 10000 + b * 100 + c) or 0
end

local function random_challenge()
	local out = {}
	for i = 1, 20 do out[i] = char(math.random(33, 126)) end
	return table.concat(out)
end

M.DEFAULT_CAPABILITIES = CLIENT.LONG_PASSWORD + CLIENT.LONG_FLAG + CLIENT.CONNECT_WITH_DB + CLIENT.PROTOCOL_41
	+ CLIENT.TRANSACTIONS + CLIENT.SECURE_CONNECTION + CLIENT.MULTI_STATEMENTS + CLIENT.MULTI_RESULTS
	+ CLIENT.PLUGIN_AUTH

-- to_challenge_packet({}) is a 4.1 greeting from a "5.0.99" server with a random challenge.
function M.to_challenge_packet(t)
	t = t or {}
	local challenge = t.challenge or random_challenge()
	if #challenge < 20 then challenge = challenge .. ("\0"):rep(20 - #challenge) end
	local caps = t.capabilities or M.DEFAULT_CAPABILITIES
	local out = {
		char(t.protocol_version or 10),
		version_string(t.server_version or 50099), "\0",
		int_le(t.thread_id or 1, 4),
		sub(challenge, 1, 8), "\0",
		int_le(caps % 65536, 2),
		char(t.charset or 33),
		int_le(t.server_status or 2, 2),
		int_le(math.floor(caps / 65536) % 65536, 2),
		char(has(caps, CLIENT.PLUGIN_AUTH) and 21 or 0),
		("\0"):rep(10),
		sub(challenge, 9, 20), "\0",
	}
	if has(caps, CLIENT.PLUGIN_AUTH) then out[#out + 1] = (t.auth_plugin_name or "mysql_native_password") .. "\0" end
	return table.concat(out)
end

function M.from_challenge_packet(packet)
	local r = reader(packet)
	local t = { protocol_version = r:int(1) }
	local version = r:nul_string()
	t.server_version = version_number(version)
	t.server_version_string = version
	t.thread_id = r:int(4)
	local challenge = r:bytes(8)
	r:bytes(1)
	local caps = r:int(2)
	t.charset = r:int(1)
	t.server_status = r:int(2)
	caps = caps + r:int(2) * 65536
	t.capabilities = caps
	local data_length = r:int(1)
	r:bytes(10)
	if has(caps, CLIENT.SECURE_CONNECTION) then
		local part2 = r:bytes(math.max(13, data_length - 8))
		challenge = challenge .. part2:gsub("%z$", "")
	end
	t.challenge = challenge
	if has(caps, CLIENT.PLUGIN_AUTH) and r:left() > 0 then t.auth_plugin_name = r:nul_string() end
	return t
end

-- The client's answer (HandshakeResponse41) ----------------------------

function M.to_response_packet(t)
	local caps = t.capabilities or (CLIENT.LONG_PASSWORD + CLIENT.LONG_FLAG + CLIENT.PROTOCOL_41
		+ CLIENT.TRANSACTIONS + CLIENT.SECURE_CONNECTION + (t.database and CLIENT.CONNECT_WITH_DB or 0))
	local response = t.response or ""
	local out = {
		int_le(caps, 4), int_le(t.max_packet_size or 16777216, 4), char(t.charset or 33), ("\0"):rep(23),
		(t.username or "") .. "\0",
	}
	if has(caps, CLIENT.PLUGIN_AUTH_LENENC) then
		out[#out + 1] = lenenc(#response) .. response
	elseif has(caps, CLIENT.SECURE_CONNECTION) then
		out[#out + 1] = char(#response) .. response
	else
		out[#out + 1] = response .. "\0"
	end
	if has(caps, CLIENT.CONNECT_WITH_DB) then out[#out + 1] = (t.database or "") .. "\0" end
	if has(caps, CLIENT.PLUGIN_AUTH) then out[#out + 1] = (t.auth_plugin_name or "mysql_native_password") .. "\0" end
	return table.concat(out)
end

function M.from_response_packet(packet)
	local r = reader(packet)
	local t = { capabilities = r:int(4), max_packet_size = r:int(4), charset = r:int(1) }
	r:bytes(23)
	t.username = r:nul_string()
	local caps = t.capabilities
	if has(caps, CLIENT.PLUGIN_AUTH_LENENC) then
		t.response = r:lenenc_string() or ""
	elseif has(caps, CLIENT.SECURE_CONNECTION) then
		t.response = r:bytes(r:int(1))
	else
		t.response = r:nul_string()
	end
	if has(caps, CLIENT.CONNECT_WITH_DB) and r:left() > 0 then t.database = r:nul_string() end
	if has(caps, CLIENT.PLUGIN_AUTH) and r:left() > 0 then t.auth_plugin_name = r:nul_string() end
	return t
end

-- Prepared statements --------------------------------------------------

function M.from_stmt_prepare_packet(packet)
	local r = reader(packet)
	expect_header(r, 22, " COM_STMT_PREPARE")
	return { stmt_text = r:rest() }
end

function M.from_stmt_prepare_ok_packet(packet)
	local r = reader(packet)
	expect_header(r, 0, " COM_STMT_PREPARE OK")
	local t = { stmt_id = r:int(4), num_columns = r:int(2), num_params = r:int(2) }
	r:bytes(1)
	t.warnings = r:left() >= 2 and r:int(2) or 0
	return t
end

function M.stmt_id_from_stmt_execute_packet(packet)
	local r = reader(packet)
	expect_header(r, 23, " COM_STMT_EXECUTE")
	return r:int(4)
end

function M.from_stmt_close_packet(packet)
	local r = reader(packet)
	expect_header(r, 25, " COM_STMT_CLOSE")
	return { stmt_id = r:int(4) }
end

local double = ffi.new("double[1]")
local float = ffi.new("float[1]")

local function signed(v, bits)
	local half = 2 ^ (bits - 1)
	return v >= half and v - 2 * half or v
end

-- Reads one binary-protocol value of a parameter type; nil for types it cannot decode.
local function binary_value(r, ptype, unsigned)
	if ptype == 1 then local v = r:int(1) return unsigned and v or signed(v, 8) end
	if ptype == 2 or ptype == 13 then local v = r:int(2) return unsigned and v or signed(v, 16) end
	if ptype == 3 or ptype == 9 then local v = r:int(4) return unsigned and v or signed(v, 32) end
	if ptype == 8 then local v = r:int(8) return unsigned and v or signed(v, 64) end
	if ptype == 5 then ffi.copy(double, r:bytes(8), 8) return double[0] end
	if ptype == 4 then ffi.copy(float, r:bytes(4), 4) return float[0] end
	if ptype == 6 then return nil end
	if ptype == 7 or ptype == 10 or ptype == 11 or ptype == 12 then return r:bytes(r:int(1)) end
	return r:lenenc_string()
end

-- from_stmt_execute_packet(packet, num_params): params[i] = {type =, value =} (value nil for NULL).
function M.from_stmt_execute_packet(packet, num_params)
	local r = reader(packet)
	expect_header(r, 23, " COM_STMT_EXECUTE")
	local t = { stmt_id = r:int(4), flags = r:int(1), iteration_count = r:int(4), params = {} }
	num_params = num_params or 0
	if num_params == 0 then return t end
	local nulls = r:bytes(math.floor((num_params + 7) / 8))
	t.new_params_bound_flag = r:int(1)
	if t.new_params_bound_flag ~= 1 then return t end
	local types = {}
	for i = 1, num_params do types[i] = { r:int(1), r:int(1) } end
	for i = 1, num_params do
		local null_byte = byte(nulls, math.floor((i - 1) / 8) + 1)
		local is_null = bit.band(null_byte, bit.lshift(1, (i - 1) % 8)) ~= 0
		local ptype, unsigned = types[i][1], types[i][2] >= 128
		t.params[i] = { type = ptype, value = not is_null and binary_value(r, ptype, unsigned) or nil }
	end
	return t
end

M.reader = reader
return M
