-- Answers "SELECT UNION" with the rows of two queries in one result set.
local collected = {}

function read_query(packet)
	if packet:sub(2) ~= "SELECT UNION" then return end
	collected = {}
	proxy.queries:append(1, string.char(proxy.COM_QUERY) .. "SELECT name FROM a", { resultset_is_needed = true })
	proxy.queries:append(2, string.char(proxy.COM_QUERY) .. "SELECT name FROM b", { resultset_is_needed = true })
	return proxy.PROXY_SEND_QUERY
end

function read_query_result(inj)
	local res = inj.resultset
	for row in res.rows do collected[#collected + 1] = { row[1], inj.id } end
	if #proxy.queries > 0 then return proxy.PROXY_IGNORE_RESULT end
	proxy.response = {
		type = proxy.MYSQLD_PACKET_OK,
		resultset = {
			fields = { { name = res.fields[1].name, type = proxy.MYSQL_TYPE_STRING }, { name = "from_query", type = proxy.MYSQL_TYPE_LONG } },
			rows = collected,
		},
	}
	return proxy.PROXY_SEND_RESULT
end
