-- Refuses DROP statements with an error of the script's own.
function read_query(packet)
	if packet:byte() == proxy.COM_QUERY and packet:sub(2):match("^%s*[Dd][Rr][Oo][Pp]%s") then
		proxy.response = {
			type = proxy.MYSQLD_PACKET_ERR,
			errmsg = "DROP is not allowed through this proxy",
			errcode = "1142",
			sqlstate = "42000",
		}
		return proxy.PROXY_SEND_RESULT
	end
end
