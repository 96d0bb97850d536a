-- Counts the connection's queries (script state is per connection) and says when it goes: a
-- parked connection keeps its count, and its disconnect_client runs once, however it went.
require("chassis")   -- print goes to the log
local count = 0

function read_query(packet)
	if packet:byte() ~= proxy.COM_QUERY then return end
	count = count + 1
	if packet:sub(2):lower() ~= "select count" then return end
	proxy.response.type = proxy.MYSQLD_PACKET_OK
	proxy.response.resultset = { fields = { { name = "count", type = proxy.MYSQL_TYPE_LONG } }, rows = { { count } } }
	return proxy.PROXY_SEND_RESULT
end

function disconnect_client()
	print(("disconnect_client after %d queries"):format(count))
end
