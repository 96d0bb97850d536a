/// The admin dialect's recursive-descent parser: one function per rule of the grammar in
/// docs/admin.md. Keywords are case-insensitive; any word may be a name where a name is due.
struct Parser {
    private let sql: [UInt8]
    private let tokens: [Token]
    private var index = 0

    static func parse(_ sql: String) throws -> Statement {
        var parser = try Parser(Array(sql.utf8))
        return try parser.statement()
    }

    init(_ sql: [UInt8]) throws {
        self.sql = sql
        tokens = try Tokenizer.tokens(of: sql)
    }

    private var current: Token { tokens[index] }
    private var following: Token { tokens[min(index + 1, tokens.count - 1)] }

    // MARK: statements

    mutating func statement() throws -> Statement {
        let statement = current.kind == .end || current.isSymbol(";") ? .empty : try oneStatement()
        _ = acceptSymbol(";")
        guard current.kind == .end else { throw failure("expected the end of the statement") }
        return statement
    }

    private mutating func oneStatement() throws -> Statement {
        guard current.kind == .word else {
            throw failure("expected a statement (SHOW HELP lists them)")
        }
        let keyword = current.text.uppercased()
        switch keyword {
        case "SELECT": return try select()
        case "SHOW": return try show()
        case "INSERT": return try insert()
        case "UPDATE": return try update()
        case "DELETE": return try delete()
        case "SET": return try set()
        case "KILL": return try kill()
        case "LOAD":
            advance()
            try expectWord("PLUGIN")
            return .loadPlugin(try dashedName("a plugin name"))
        case "PAUSE":
            advance()
            return .pause
        case "RESUME":
            advance()
            return .resume
        case "RELOAD":
            advance()
            return .reload
        case "COMMIT", "ROLLBACK":
            advance()
            return .endTransaction
        default:
            throw failure("expected a statement (SHOW HELP lists them)")
        }
    }

    /// SELECT cols|* FROM table [WHERE ...] [ORDER BY ...] [LIMIT n], or SELECT values [LIMIT n].
    private mutating func select() throws -> Statement {
        advance()
        var items = [(current, try selectListEntry())]
        while acceptSymbol(",") { items.append((current, try selectListEntry())) }
        guard acceptWord("FROM") else {
            guard current.kind == .end || current.isSymbol(";") || current.isWord("LIMIT") else { throw failure("expected FROM") }
            let values = try items.map { token, item in
                switch item {
                case .item(let value): return value
                case .column(let name): throw failure("unknown name '\(name)': a column needs FROM and a table", at: token)
                case .star, .count: throw failure("\(token.text == "*" ? "SELECT *" : "COUNT(*)") needs FROM and a table", at: token)
                }
            }
            return .selectValues(values, limit: try limitClause())
        }
        var query = Select(projection: .all, table: try name("a table name"))
        if items.count == 1, items[0].1 == .count {
            query.projection = .count
        } else if items.count > 1 || items[0].1 != .star {
            query.projection = .columns(try items.map { token, item in
                guard case .column(let name) = item else {
                    throw failure("select column names, * or COUNT(*) alone from a table", at: token)
                }
                return name
            })
        }
        query.conditions = try whereClause()
        if acceptWord("ORDER") {
            try expectWord("BY")
            repeat {
                let column = try name("a column name")
                let descending = acceptWord("DESC")
                if !descending { _ = acceptWord("ASC") }
                query.order.append(OrderItem(column: column, descending: descending))
            } while acceptSymbol(",")
        }
        query.limit = try limitClause()
        return .select(query)
    }

    private enum SelectListEntry: Equatable {
        case star
        case count
        case column(String)
        case item(SelectItem)
    }

    private mutating func selectListEntry() throws -> SelectListEntry {
        let token = current
        switch token.kind {
        case .symbol where token.text == "*":
            advance()
            return .star
        case .variable:
            advance()
            return .item(.variable(token.text))
        case .quotedName:
            advance()
            return .column(token.text)
        case .word where token.isWord("COUNT") && following.isSymbol("("):
            advance(2)
            try expectSymbol("*")
            try expectSymbol(")")
            return .count
        case .word where following.isSymbol("("):
            advance(2)
            try expectSymbol(")")
            return .item(.function(token.text.uppercased()))
        case .word where ["NULL", "TRUE", "FALSE"].contains(token.text.uppercased()):
            return .item(.literal(try literal()))
        case .word where !["FROM", "WHERE", "ORDER", "LIMIT"].contains(token.text.uppercased()):
            advance()
            return .column(token.text)
        case .string, .number:
            return .item(.literal(try literal()))
        case .symbol where token.text == "-":
            return .item(.literal(try literal()))
        default:
            throw failure("expected a column name or *")
        }
    }

    private mutating func whereClause() throws -> [Condition] {
        guard acceptWord("WHERE") else { return [] }
        var conditions = [try condition()]
        while acceptWord("AND") { conditions.append(try condition()) }
        return conditions
    }

    private mutating func condition() throws -> Condition {
        let column = try name("a column name")
        let op: Condition.Operator
        if acceptWord("LIKE") {
            op = .like
        } else if current.kind == .symbol, let symbol = Condition.Operator(rawValue: current.text == "<>" ? "!=" : current.text) {
            advance()
            op = symbol
        } else {
            throw failure("expected a comparison (= != <> < <= > >= LIKE)")
        }
        return Condition(column: column, op: op, value: try literal())
    }

    private mutating func limitClause() throws -> Int? {
        guard acceptWord("LIMIT") else { return nil }
        guard current.kind == .number, let n = Int(current.text) else { throw failure("expected a row count after LIMIT") }
        advance()
        return n
    }

    /// SHOW TABLES | SHOW HELP | SHOW DATABASES
    private mutating func show() throws -> Statement {
        advance()
        if acceptWord("TABLES") { return .showTables }
        if acceptWord("HELP") { return .showHelp }
        if acceptWord("DATABASES") || acceptWord("SCHEMAS") { return .showDatabases }
        throw failure("expected TABLES or HELP after SHOW")
    }

    /// INSERT INTO table [(col, ...)] VALUES (value, ...)[, (...)]
    private mutating func insert() throws -> Statement {
        advance()
        try expectWord("INTO")
        var insert = Insert(table: try name("a table name"), columns: nil, rows: [])
        if acceptSymbol("(") {
            var columns = [try name("a column name")]
            while acceptSymbol(",") { columns.append(try name("a column name")) }
            try expectSymbol(")")
            insert.columns = columns
        }
        guard acceptWord("VALUES") || acceptWord("VALUE") else { throw failure("expected VALUES") }
        repeat {
            try expectSymbol("(")
            var row = [try literal()]
            while acceptSymbol(",") { row.append(try literal()) }
            try expectSymbol(")")
            insert.rows.append(row)
        } while acceptSymbol(",")
        return .insert(insert)
    }

    /// UPDATE table SET col = value[, ...] [WHERE ...]
    private mutating func update() throws -> Statement {
        advance()
        let table = try name("a table name")
        try expectWord("SET")
        var assignments: [Assignment] = []
        repeat {
            let column = try name("a column name")
            try expectSymbol("=")
            assignments.append(Assignment(column: column, value: try literal()))
        } while acceptSymbol(",")
        return .update(Update(table: table, assignments: assignments, conditions: try whereClause()))
    }

    /// DELETE FROM table [WHERE ...]
    private mutating func delete() throws -> Statement {
        advance()
        try expectWord("FROM")
        let table = try name("a table name")
        return .delete(Delete(table: table, conditions: try whereClause()))
    }

    /// SET name = value[, ...], SET NAMES x [COLLATE y], SET CHARACTER SET x
    private mutating func set() throws -> Statement {
        advance()
        if acceptWord("NAMES") {
            try charsetName()
            if acceptWord("COLLATE") { try charsetName() }
            return .setNames
        }
        if acceptWord("CHARSET") || (current.isWord("CHARACTER") && following.isWord("SET")) {
            if current.isWord("CHARACTER") { advance(2) }
            try charsetName()
            return .setNames
        }
        var items = [try setItem()]
        while acceptSymbol(",") { items.append(try setItem()) }
        return .set(items)
    }

    private mutating func charsetName() throws {
        guard [.word, .string, .quotedName].contains(current.kind) else { throw failure("expected a character set name") }
        advance()
    }

    private mutating func setItem() throws -> SetItem {
        var scope = SetItem.Scope.unspecified
        let name: String
        if current.kind == .variable {
            // @@name is a session variable unless it says @@global.
            let parts = current.text.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                scope = parts[0].lowercased() == "global" ? .global : .session
                name = parts[1]
            } else {
                scope = .session
                name = parts[0]
            }
            advance()
        } else {
            if acceptWord("GLOBAL") {
                scope = .global
            } else if acceptWord("SESSION") || acceptWord("LOCAL") {
                scope = .session
            }
            name = try dashedName("an option name")
        }
        try expectSymbol("=")
        let value: Value
        if current.kind == .word, !["NULL", "TRUE", "FALSE"].contains(current.text.uppercased()) {
            value = .text(try dashedName("a value"))   // SET x = ON, SET pool_mode = session
        } else {
            value = try literal()
        }
        return SetItem(scope: scope, name: name, value: value)
    }

    /// KILL [CLIENT | CONNECTION] id
    private mutating func kill() throws -> Statement {
        advance()
        if !acceptWord("CLIENT") { _ = acceptWord("CONNECTION") }
        guard current.kind == .number, let id = UInt32(current.text) else { throw failure("expected a client id") }
        advance()
        return .killClient(id)
    }

    // MARK: pieces

    private mutating func literal() throws -> Value {
        let token = current
        switch token.kind {
        case .string:
            advance()
            return .text(token.text)
        case .number:
            advance()
            return try number(token, negative: false)
        case .symbol where token.text == "-" && following.kind == .number:
            advance()
            let digits = current
            advance()
            return try number(digits, negative: true)
        case .word where token.isWord("NULL"):
            advance()
            return .null
        case .word where token.isWord("TRUE") || token.isWord("FALSE"):
            advance()
            return .integer(token.isWord("TRUE") ? 1 : 0)
        default:
            throw failure("expected a value (a number or a 'quoted string')")
        }
    }

    private func number(_ token: Token, negative: Bool) throws -> Value {
        let text = (negative ? "-" : "") + token.text
        if let integer = Int64(text) { return .integer(integer) }
        guard let real = Double(text) else { throw failure("malformed number", at: token) }
        return .real(real)
    }

    private mutating func name(_ what: String) throws -> String {
        guard current.kind == .word || current.kind == .quotedName else { throw failure("expected \(what)") }
        defer { advance() }
        return current.text
    }

    /// A name that may contain dashes written without spaces (hello-c, backlog-timeout), a
    /// `quoted name` or a 'string'.
    private mutating func dashedName(_ what: String) throws -> String {
        if current.kind == .quotedName || current.kind == .string {
            defer { advance() }
            return current.text
        }
        guard current.kind == .word else { throw failure("expected \(what)") }
        var text = current.text
        var end = current.end
        advance()
        while current.isSymbol("-"), current.offset == end, following.offset == current.end,
              following.kind == .word || following.kind == .number {
            text += "-" + following.text
            end = following.end
            advance(2)
        }
        return text
    }

    private mutating func advance(_ count: Int = 1) {
        index = min(index + count, tokens.count - 1)
    }

    private mutating func acceptWord(_ keyword: String) -> Bool {
        guard current.isWord(keyword) else { return false }
        advance()
        return true
    }

    private mutating func acceptSymbol(_ symbol: String) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        advance()
        return true
    }

    private mutating func expectWord(_ keyword: String) throws {
        guard acceptWord(keyword) else { throw failure("expected \(keyword)") }
    }

    private mutating func expectSymbol(_ symbol: String) throws {
        guard acceptSymbol(symbol) else { throw failure("expected '\(symbol)'") }
    }

    private func failure(_ reason: String, at token: Token? = nil) -> SyntaxError {
        SyntaxError(reason, at: (token ?? current).offset, in: sql)
    }
}
