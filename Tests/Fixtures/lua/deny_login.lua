-- Refuses the login of user "intruder" in read_auth.
function read_auth()
	local client = proxy.connection.client
	if client.username == "intruder" then
		proxy.response = {
			type = proxy.MYSQLD_PACKET_ERR,
			errmsg = "Access denied for user '" .. client.username .. "' by the proxy script",
			errcode = 1045,
			sqlstate = "28000",
		}
		return proxy.PROXY_SEND_RESULT
	end
end
