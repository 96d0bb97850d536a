-- Answers SELECT * FROM lua.hello from the script, with a result set; everything else goes on.
local answered = 0

function read_query(packet)
	if packet:byte() ~= proxy.COM_QUERY then return end
	if packet:sub(2):lower() ~= "select * from lua.hello" then return end
	answered = answered + 1
	proxy.response.type = proxy.MYSQLD_PACKET_OK
	proxy.response.resultset = {
		fields = {
			{ name = "id", type = proxy.MYSQL_TYPE_LONG },
			{ name = "greeting" },
			{ name = "nothing", type = proxy.MYSQL_TYPE_STRING },
		},
		rows = {
			{ 1, "hello", nil },
			{ answered, "again", "x" },
		},
	}
	return proxy.PROXY_SEND_RESULT
end
