-- Counts queries in proxy.global (shared by every connection) and in a connection's own local.
local mine = 0
if not proxy.global.config.counter then
	proxy.global.config.counter = { queries = 0, name = "counter" }
end

function read_query(packet)
	mine = mine + 1
	local c = proxy.global.config.counter
	c.queries = c.queries + 1
	if packet:sub(2) ~= "SHOW COUNTS" then return end
	proxy.response = {
		type = proxy.MYSQLD_PACKET_OK,
		resultset = {
			fields = { { name = "global", type = proxy.MYSQL_TYPE_LONG }, { name = "mine", type = proxy.MYSQL_TYPE_LONG } },
			rows = { { c.queries, mine } },
		},
	}
	return proxy.PROXY_SEND_RESULT
end
