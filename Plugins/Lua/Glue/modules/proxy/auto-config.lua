-- proxy.auto-config: PROXY SHOW CONFIG / PROXY SET GLOBAL module.option = value /
-- PROXY SAVE CONFIG INTO "file" / PROXY LOAD CONFIG FROM "file", over proxy.global.config.
--
--   local r = require("proxy.auto-config").handle(commands.parse(packet))
--   if r then return r end
local M = {}

local function ok(affected)
	proxy.response = { type = proxy.MYSQLD_PACKET_OK, affected_rows = affected or 0 }
	return proxy.PROXY_SEND_RESULT
end

local function err(message)
	proxy.response = { type = proxy.MYSQLD_PACKET_ERR, errmsg = message }
	return proxy.PROXY_SEND_RESULT
end

local function parse_value(text)
	local quoted = text:match("^'(.*)'$") or text:match('^"(.*)"$')
	if quoted then return quoted end
	if text:lower() == "true" then return true end
	if text:lower() == "false" then return false end
	return tonumber(text) or text
end

local function config_table(module)
	local config = proxy.global.config
	if config[module] == nil then config[module] = {} end
	return config[module]
end

local function show()
	local rows = {}
	for module, options in pairs(proxy.global.config) do
		if type(options) == "userdata" then
			for option, value in pairs(options) do
				rows[#rows + 1] = { module, option, tostring(value), type(value) }
			end
		end
	end
	table.sort(rows, function(a, b) return a[1] .. "." .. a[2] < b[1] .. "." .. b[2] end)
	proxy.response = {
		type = proxy.MYSQLD_PACKET_OK,
		resultset = {
			fields = {
				{ name = "module", type = proxy.MYSQL_TYPE_STRING },
				{ name = "option", type = proxy.MYSQL_TYPE_STRING },
				{ name = "value", type = proxy.MYSQL_TYPE_STRING },
				{ name = "type", type = proxy.MYSQL_TYPE_STRING },
			},
			rows = rows,
		},
	}
	return proxy.PROXY_SEND_RESULT
end

local function set(module, option, text)
	local options = config_table(module)
	local value, current = parse_value(text), options[option]
	if type(current) == "number" then value = tonumber(value) or value end
	if type(current) == "boolean" and type(value) == "number" then value = value ~= 0 end
	options[option] = value
	return ok(1)
end

local function save(file)
	local f, message = io.open(file, "w")
	if not f then return err("PROXY SAVE CONFIG: " .. message) end
	f:write("return {\n")
	for module, options in pairs(proxy.global.config) do
		if type(options) == "userdata" then
			f:write(("  [%q] = {\n"):format(module))
			for option, value in pairs(options) do
				local literal = type(value) == "string" and ("%q"):format(value) or tostring(value)
				f:write(("    [%q] = %s,\n"):format(option, literal))
			end
			f:write("  },\n")
		end
	end
	f:write("}\n")
	f:close()
	return ok(0)
end

local function load(file)
	local chunk, message = loadfile(file)
	if not chunk then return err("PROXY LOAD CONFIG: " .. message) end
	local loaded_ok, config = pcall(chunk)
	if not loaded_ok or type(config) ~= "table" then return err("PROXY LOAD CONFIG: " .. tostring(config)) end
	local count = 0
	for module, options in pairs(config) do
		local target = config_table(module)
		for option, value in pairs(options) do
			target[option] = value
			count = count + 1
		end
	end
	return ok(count)
end

function M.handle(cmd)
	if type(cmd) ~= "table" or cmd.type ~= proxy.COM_QUERY or not cmd.query then return nil end
	local q = cmd.query:gsub("^%s+", ""):gsub("%s*;?%s*$", "")
	local upper = q:upper()
	if upper:match("^PROXY%s+SHOW%s+CONFIG$") then return show() end
	local module, option, value = q:match("^[Pp][Rr][Oo][Xx][Yy]%s+[Ss][Ee][Tt]%s+[Gg][Ll][Oo][Bb][Aa][Ll]%s+([%w_]+)%.([%w_]+)%s*=%s*(.-)$")
	if module then return set(module, option, value) end
	local file = q:match("^%S+%s+%S+%s+%S+%s+[Ii][Nn][Tt][Oo]%s+['\"](.-)['\"]$")
	if file and upper:match("^PROXY%s+SAVE%s+CONFIG%s") then return save(file) end
	file = q:match("^%S+%s+%S+%s+%S+%s+[Ff][Rr][Oo][Mm]%s+['\"](.-)['\"]$")
	if file and upper:match("^PROXY%s+LOAD%s+CONFIG%s") then return load(file) end
	if upper:match("^PROXY%s") then return err("unknown PROXY command: " .. q) end
	return nil
end

return M
