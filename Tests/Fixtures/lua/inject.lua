-- Runs SELECT NOW() before every query and hides its result from the client.
function read_query(packet)
	if packet:byte() ~= proxy.COM_QUERY then return end
	proxy.queries:append(2, string.char(proxy.COM_QUERY) .. "SELECT NOW()", { resultset_is_needed = true })
	proxy.queries:append(1, packet)
	return proxy.PROXY_SEND_QUERY
end

function read_query_result(inj)
	if inj.id == 2 then
		local now
		for row in inj.resultset.rows do now = row[1] end
		proxy.global.last_now = now
		return proxy.PROXY_IGNORE_RESULT
	end
end
