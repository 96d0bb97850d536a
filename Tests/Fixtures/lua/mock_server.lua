-- A server without a backend: greets with a handshake, accepts any login, answers every query.
local proto = require("mysql.proto")

function connect_server()
	proxy.response = {
		type = proxy.MYSQLD_PACKET_RAW,
		packets = { proto.to_challenge_packet({ server_version = 50099, thread_id = 42 }) },
	}
	return proxy.PROXY_SEND_RESULT
end

function read_auth()
	proxy.response = { type = proxy.MYSQLD_PACKET_RAW, packets = { proto.to_ok_packet({}) } }
	return proxy.PROXY_SEND_RESULT
end

function read_query(packet)
	if packet:byte() == proxy.COM_QUIT then return end
	proxy.response = {
		type = proxy.MYSQLD_PACKET_OK,
		resultset = { fields = { { name = "mock", type = proxy.MYSQL_TYPE_STRING } }, rows = { { packet:sub(2) } } },
	}
	return proxy.PROXY_SEND_RESULT
end
