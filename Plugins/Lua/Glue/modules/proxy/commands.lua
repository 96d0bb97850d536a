-- proxy.commands: parse(packet) decodes a client command into {type, type_name, ...}.
local proto = require("mysql.proto")

local M = {}

local names = {
	[0] = "COM_SLEEP", "COM_QUIT", "COM_INIT_DB", "COM_QUERY", "COM_FIELD_LIST", "COM_CREATE_DB",
	"COM_DROP_DB", "COM_REFRESH", "COM_SHUTDOWN", "COM_STATISTICS", "COM_PROCESS_INFO", "COM_CONNECT",
	"COM_PROCESS_KILL", "COM_DEBUG", "COM_PING", "COM_TIME", "COM_DELAYED_INSERT", "COM_CHANGE_USER",
	"COM_BINLOG_DUMP", "COM_TABLE_DUMP", "COM_CONNECT_OUT", "COM_REGISTER_SLAVE", "COM_STMT_PREPARE",
	"COM_STMT_EXECUTE", "COM_STMT_SEND_LONG_DATA", "COM_STMT_CLOSE", "COM_STMT_RESET", "COM_SET_OPTION",
	"COM_STMT_FETCH", "COM_DAEMON",
}

-- Per command: what follows the command byte.
local parsers = {
	[2] = function(r) return { schema = r:rest() } end,
	[3] = function(r) return { query = r:rest() } end,
	[4] = function(r)
		local t = { table = r:nul_string() }
		if r:left() > 0 then t.wildcard = r:rest() end
		return t
	end,
	[5] = function(r) return { schema = r:rest() } end,
	[6] = function(r) return { schema = r:rest() } end,
	[7] = function(r) return { options = r:int(1) } end,
	[8] = function(r) return { shutdown_type = r:left() > 0 and r:int(1) or 0 } end,
	[12] = function(r) return { process_id = r:int(4) } end,
	[17] = function(r) return { username = r:nul_string(), rest = r:rest() } end,
	[18] = function(r) return { binlog_pos = r:int(4), flags = r:int(2), server_id = r:int(4), binlog_file = r:rest() } end,
	[22] = function(r) return { query = r:rest() } end,
	[23] = function(r) return { stmt_id = r:int(4), flags = r:int(1), iteration_count = r:int(4) } end,
	[24] = function(r) return { stmt_id = r:int(4), param_id = r:int(2), data = r:rest() } end,
	[25] = function(r) return { stmt_id = r:int(4) } end,
	[26] = function(r) return { stmt_id = r:int(4) } end,
	[27] = function(r) return { option = r:int(2) } end,
	[28] = function(r) return { stmt_id = r:int(4), num_rows = r:int(4) } end,
}

function M.parse(packet)
	if type(packet) ~= "string" or #packet == 0 then return nil end
	local r = proto.reader(packet)
	local command = r:int(1)
	local parser = parsers[command]
	local ok, t = true, {}
	if parser then ok, t = pcall(parser, r) end
	if not ok then return nil end
	t.type, t.type_name = command, names[command]
	return t
end

function M.pretty_print(cmd)
	if not cmd then return "(not a command)" end
	if cmd.query then return ("[%s] %s"):format(cmd.type_name or cmd.type, cmd.query) end
	if cmd.schema then return ("[%s] %s"):format(cmd.type_name or cmd.type, cmd.schema) end
	return ("[%s]"):format(cmd.type_name or cmd.type)
end

return M
