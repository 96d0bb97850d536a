-- Sends reads to a read-only backend and everything else to a read-write one.
local tokenizer = require("proxy.tokenizer")
local balance = require("proxy.balance")

function read_query(packet)
	if packet:byte() ~= proxy.COM_QUERY then return end
	local first = tokenizer.first_stmt_token(tokenizer.tokenize(packet:sub(2)))
	if first and first.token_name == "TK_SQL_SELECT" then
		proxy.connection.backend_ndx = balance.idle_ro() or balance.idle_failsafe_rw()
	else
		proxy.connection.backend_ndx = balance.idle_failsafe_rw()
	end
end
