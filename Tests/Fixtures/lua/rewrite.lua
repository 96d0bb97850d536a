-- Rewrites queries on the old table name to the new one.
local tokenizer = require("proxy.tokenizer")

function read_query(packet)
	if packet:byte() ~= proxy.COM_QUERY then return end
	local tokens = tokenizer.tokenize(packet:sub(2))
	local changed = false
	for _, token in ipairs(tokens) do
		if token.token_name == "TK_LITERAL" and token.text == "customers_old" then
			token.text = "customers"
			changed = true
		end
	end
	if not changed then return end
	proxy.queries:append(1, string.char(proxy.COM_QUERY) .. tokenizer.tokens_to_query(tokens))
	return proxy.PROXY_SEND_QUERY
end
