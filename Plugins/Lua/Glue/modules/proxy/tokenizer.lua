-- proxy.tokenizer: helpers over mysql.tokenizer's tokens.
local tokenizer = require("mysql.tokenizer")

local M = {}

local function is_comment(t) return t.token_name == "TK_COMMENT" or t.token_name == "TK_COMMENT_MYSQL" end
local function is_value(t)
	return t.token_name == "TK_STRING" or t.token_name == "TK_INTEGER" or t.token_name == "TK_FLOAT"
end

function M.tokenize(sql) return tokenizer.tokenize(sql) end

-- The query with values as ?, names in backticks, keywords upper-cased, comments dropped, one
-- space after every token: "SELECT `a` FROM `t` WHERE `id` = ? ".
function M.normalize(tokens)
	local out = {}
	for _, t in ipairs(tokens) do
		if not is_comment(t) then
			local text
			if is_value(t) then
				text = "?"
			elseif t.token_name == "TK_LITERAL" then
				text = "`" .. t.text .. "`"
			elseif t.token_name == "TK_FUNCTION" or t.token_name:sub(1, 7) == "TK_SQL_" then
				text = t.text:upper()
			else
				text = t.text
			end
			out[#out + 1] = text .. " "
		end
	end
	return table.concat(out)
end

function M.first_stmt_token(tokens)
	for _, t in ipairs(tokens) do
		if not is_comment(t) then return t end
	end
	return nil
end

function M.tokens_without_comments(tokens)
	local out = {}
	for _, t in ipairs(tokens) do
		if not is_comment(t) then out[#out + 1] = t end
	end
	return out
end

local function quote(s) return "'" .. s:gsub("\\", "\\\\"):gsub("'", "\\'") .. "'" end

-- The token texts without comments; strings quoted again when quote_strings is true.
function M.bare_tokens(tokens, quote_strings)
	local out = {}
	for _, t in ipairs(tokens) do
		if not is_comment(t) then
			out[#out + 1] = (quote_strings and t.token_name == "TK_STRING") and quote(t.text) or t.text
		end
	end
	return out
end

-- A query text from tokens, quoting strings and names again.
function M.tokens_to_query(tokens)
	local out = {}
	for _, t in ipairs(tokens) do
		if t.token_name == "TK_STRING" then
			out[#out + 1] = quote(t.text)
		elseif t.token_name == "TK_LITERAL" then
			out[#out + 1] = "`" .. t.text:gsub("`", "``") .. "`"
		elseif t.token_name == "TK_COMMENT" then
			out[#out + 1] = "/*" .. t.text .. "*/"
		else
			out[#out + 1] = t.text
		end
	end
	return table.concat(out, " ")
end

return M
