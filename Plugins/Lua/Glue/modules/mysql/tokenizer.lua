-- mysql.tokenizer: splits SQL into tokens {token_id, token_name, text}.
--
-- Strings come without their quotes and with escapes resolved, `quoted` names without backticks,
-- comments without their markers. Whitespace is dropped. TK_LITERAL (9), TK_FUNCTION (10),
-- TK_INTEGER (11) and TK_SQL_SELECT (204) have MySQL Proxy's ids; compare token_name otherwise.
local M = {}
local byte, sub, upper, find = string.byte, string.sub, string.upper, string.find

local generic = {
	"TK_UNKNOWN", "TK_LE", "TK_GE", "TK_LT", "TK_GT", "TK_EQ", "TK_NE", "TK_STRING", "TK_COMMENT",
	"TK_LITERAL", "TK_FUNCTION", "TK_INTEGER", "TK_FLOAT", "TK_DOT", "TK_COMMA", "TK_ASSIGN", "TK_OBRACE",
	"TK_CBRACE", "TK_SEMICOLON", "TK_STAR", "TK_PLUS", "TK_MINUS", "TK_DIV", "TK_MOD", "TK_BITWISE_AND",
	"TK_BITWISE_OR", "TK_BITWISE_XOR", "TK_BITWISE_NOT", "TK_LOGICAL_AND", "TK_LOGICAL_OR", "TK_NOT",
	"TK_PLACEHOLDER", "TK_COMMENT_MYSQL", "TK_SPACESHIP", "TK_COLON", "TK_SHIFT_LEFT", "TK_SHIFT_RIGHT",
}

local keywords = {
	"ACCESSIBLE", "ADD", "ALL", "ALTER", "ANALYZE", "AND", "AS", "ASC", "BEGIN", "BETWEEN", "BIGINT", "BINARY",
	"BLOB", "BOTH", "BY", "CALL", "CASCADE", "CASE", "CHANGE", "CHAR", "CHARACTER", "CHECK", "COLLATE",
	"COLUMN", "COMMIT", "CONDITION", "CONSTRAINT", "CONTINUE", "CONVERT", "CREATE", "CROSS", "DATABASE",
	"DATABASES", "DEALLOCATE", "DECLARE", "DEFAULT", "DELAYED", "DELETE", "DESC", "DESCRIBE", "DISTINCT",
	"DIV", "DO", "DROP", "DUAL", "EACH", "ELSE", "ELSEIF", "END", "ENUM", "ESCAPE", "EXECUTE", "EXISTS",
	"EXPLAIN", "FALSE", "FETCH", "FLUSH", "FOR", "FORCE", "FOREIGN", "FROM", "FULLTEXT", "GRANT", "GROUP",
	"HANDLER", "HAVING", "HIGH_PRIORITY", "IF", "IGNORE", "IN", "INDEX", "INFILE", "INNER", "INSERT", "INT",
	"INTEGER", "INTERVAL", "INTO", "IS", "JOIN", "KEY", "KEYS", "KILL", "LEADING", "LEFT", "LIKE", "LIMIT",
	"LINES", "LOAD", "LOCK", "LOW_PRIORITY", "MATCH", "MOD", "NATURAL", "NOT", "NULL", "OFFSET", "ON",
	"OPTIMIZE", "OPTION", "OR", "ORDER", "OUTER", "OUTFILE", "PREPARE", "PRIMARY", "PROCEDURE", "PROXY",
	"READ", "REFERENCES", "REGEXP", "RELEASE", "RENAME", "REPAIR", "REPLACE", "REVOKE", "RIGHT", "RLIKE",
	"ROLLBACK", "SAVEPOINT", "SCHEMA", "SELECT", "SESSION", "SET", "SHARE", "SHOW", "SQL_CALC_FOUND_ROWS",
	"START", "STRAIGHT_JOIN", "TABLE", "TABLES", "THEN", "TO", "TRAILING", "TRANSACTION", "TRIGGER", "TRUE",
	"TRUNCATE", "UNION", "UNIQUE", "UNLOCK", "UPDATE", "USE", "USING", "VALUES", "VIEW", "WHEN", "WHERE",
	"WHILE", "WITH", "WORK", "WRITE", "XOR", "GLOBAL", "LOCAL", "STATUS", "VARIABLES", "WARNINGS", "ERRORS",
}

local ids, names = {}, {}
local function define(name, id)
	ids[name], names[id] = id, name
	M[name] = id
end
for i, name in ipairs(generic) do define(name, i - 1) end
define("TK_SQL_SELECT", 204)
local next_id = 100
for _, word in ipairs(keywords) do
	local name = "TK_SQL_" .. word
	if not ids[name] then
		if next_id == 204 then next_id = 205 end
		define(name, next_id)
		next_id = next_id + 1
	end
end

local is_keyword = {}
for _, word in ipairs(keywords) do is_keyword[word] = true end

function M.token_name(id) return names[id] end

local operators = {
	["<=>"] = "TK_SPACESHIP", ["<="] = "TK_LE", [">="] = "TK_GE", ["<>"] = "TK_NE", ["!="] = "TK_NE",
	[":="] = "TK_ASSIGN", ["&&"] = "TK_LOGICAL_AND", ["||"] = "TK_LOGICAL_OR", ["<<"] = "TK_SHIFT_LEFT",
	[">>"] = "TK_SHIFT_RIGHT", ["<"] = "TK_LT", [">"] = "TK_GT", ["="] = "TK_EQ", [","] = "TK_COMMA",
	["."] = "TK_DOT", [";"] = "TK_SEMICOLON", ["("] = "TK_OBRACE", [")"] = "TK_CBRACE", ["*"] = "TK_STAR",
	["+"] = "TK_PLUS", ["-"] = "TK_MINUS", ["/"] = "TK_DIV", ["%"] = "TK_MOD", ["&"] = "TK_BITWISE_AND",
	["|"] = "TK_BITWISE_OR", ["^"] = "TK_BITWISE_XOR", ["~"] = "TK_BITWISE_NOT", ["!"] = "TK_NOT",
	["?"] = "TK_PLACEHOLDER", [":"] = "TK_COLON",
}

local escapes = { n = "\n", t = "\t", r = "\r", b = "\b", ["0"] = "\0", Z = "\26" }

-- Reads a quoted string starting at i (the quote); returns its text and the index after it.
local function quoted(sql, i, quote)
	local out, j = {}, i + 1
	while j <= #sql do
		local c = sub(sql, j, j)
		if c == "\\" and quote ~= "`" then
			local e = sub(sql, j + 1, j + 1)
			out[#out + 1] = escapes[e] or e
			j = j + 2
		elseif c == quote then
			if sub(sql, j + 1, j + 1) == quote then
				out[#out + 1] = quote
				j = j + 2
			else
				return table.concat(out), j + 1
			end
		else
			out[#out + 1] = c
			j = j + 1
		end
	end
	return table.concat(out), j
end

local function token(tokens, name, text)
	tokens[#tokens + 1] = { token_id = ids[name], token_name = name, text = text }
end

function M.tokenize(sql)
	local tokens, i, n = {}, 1, #sql
	while i <= n do
		local c = sub(sql, i, i)
		local two = sub(sql, i, i + 1)
		if find(c, "%s") then
			i = i + 1
		elseif two == "/*" then
			local e = find(sql, "*/", i + 2, true) or n + 1
			local body = sub(sql, i + 2, e - 1)
			if sub(body, 1, 1) == "!" then
				token(tokens, "TK_COMMENT_MYSQL", (body:gsub("^!%d*", "")))
			else
				token(tokens, "TK_COMMENT", body)
			end
			i = e + 2
		elseif c == "#" or (two == "--" and (i + 2 > n or find(sub(sql, i + 2, i + 2), "%s"))) then
			local e = find(sql, "\n", i, true) or n + 1
			token(tokens, "TK_COMMENT", sub(sql, i + (c == "#" and 1 or 2), e - 1))
			i = e + 1
		elseif c == "'" or c == '"' then
			local text, j = quoted(sql, i, c)
			token(tokens, "TK_STRING", text)
			i = j
		elseif c == "`" then
			local text, j = quoted(sql, i, c)
			token(tokens, "TK_LITERAL", text)
			i = j
		elseif find(c, "%d") or (c == "." and find(sub(sql, i + 1, i + 1), "%d")) then
			local hex = sql:match("^0[xX]%x+", i)
			if hex then
				token(tokens, "TK_INTEGER", hex)
				i = i + #hex
			else
				local number = sql:match("^%d*%.?%d*[eE][-+]?%d+", i) or sql:match("^%d*%.?%d*", i)
				token(tokens, find(number, "[.eE]") and "TK_FLOAT" or "TK_INTEGER", number)
				i = i + #number
			end
		elseif find(c, "[%a_$@]") or byte(c) >= 128 then
			local word = sql:match("^[@%w_$\128-\255]+", i)
			local after = i + #word
			local keyword = upper(word)
			if is_keyword[keyword] then
				token(tokens, "TK_SQL_" .. keyword, word)
			elseif sub(sql, after, after) == "(" then
				token(tokens, "TK_FUNCTION", word)
			else
				token(tokens, "TK_LITERAL", word)
			end
			i = after
		else
			local op = operators[sub(sql, i, i + 2)] and sub(sql, i, i + 2)
				or operators[two] and two or c
			token(tokens, operators[op] or "TK_UNKNOWN", op)
			i = i + #op
		end
	end
	return tokens
end

return M
