-- Logs how long each query took, as tutorial-query-time does, and the result's figures.
require("chassis")

function read_query(packet)
	if packet:byte() ~= proxy.COM_QUERY then return end
	proxy.queries:append(1, packet, { resultset_is_needed = true })
	return proxy.PROXY_SEND_QUERY
end

function read_query_result(inj)
	local res = inj.resultset
	print(("query %q query_time=%d response_time=%d rows=%d bytes=%d fields=%d status=%s affected=%s"):format(
		inj.query:sub(2), inj.query_time, inj.response_time, res.row_count, res.bytes, #res.fields,
		tostring(res.query_status), tostring(res.affected_rows)))
end
