/// Cuts an admin statement into tokens. Whitespace and comments (`-- `, `#`, `/* */`) are skipped.
/// Strings follow the server's default mode: 'single' or "double" quoted, a doubled quote or a
/// backslash escape inside.
struct Tokenizer {
    private let sql: [UInt8]
    private var position = 0

    init(_ sql: [UInt8]) {
        self.sql = sql
    }

    /// Every token, ending with one `.end`.
    static func tokens(of sql: [UInt8]) throws -> [Token] {
        var tokenizer = Tokenizer(sql)
        var tokens: [Token] = []
        repeat {
            tokens.append(try tokenizer.next())
        } while tokens.last?.kind != .end
        return tokens
    }

    private func at(_ i: Int) -> UInt8 { i < sql.count ? sql[i] : 0 }

    mutating func next() throws -> Token {
        try skipTrivia()
        let start = position
        guard position < sql.count else { return Token(kind: .end, text: "", offset: start, end: start) }
        let c = sql[position]
        switch c {
        case _ where Self.isWordStart(c):
            while position < sql.count && Self.isWordPart(sql[position]) { position += 1 }
            return token(.word, from: start)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number(from: start)
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return try quoted(from: start, kind: .string)
        case UInt8(ascii: "`"):
            return try quoted(from: start, kind: .quotedName)
        case UInt8(ascii: "@") where at(position + 1) == UInt8(ascii: "@"):
            position += 2
            while position < sql.count && (Self.isWordPart(sql[position]) || sql[position] == UInt8(ascii: ".")) { position += 1 }
            guard position > start + 2 else { throw SyntaxError("a variable name must follow @@", at: start, in: sql) }
            return Token(kind: .variable, text: text(start + 2, position), offset: start, end: position)
        case UInt8(ascii: "<") where at(position + 1) == UInt8(ascii: ">"),
             UInt8(ascii: "<") where at(position + 1) == UInt8(ascii: "="),
             UInt8(ascii: ">") where at(position + 1) == UInt8(ascii: "="),
             UInt8(ascii: "!") where at(position + 1) == UInt8(ascii: "="):
            position += 2
            return token(.symbol, from: start)
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","), UInt8(ascii: "*"), UInt8(ascii: ";"),
             UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "="), UInt8(ascii: "<"), UInt8(ascii: ">"):
            position += 1
            return token(.symbol, from: start)
        default:
            throw SyntaxError("unexpected character", at: start, in: sql)
        }
    }

    private mutating func skipTrivia() throws {
        while position < sql.count {
            let c = sql[position]
            if c == 0x20 || (0x09...0x0D).contains(c) {
                position += 1
            } else if c == UInt8(ascii: "#") || (c == UInt8(ascii: "-") && at(position + 1) == UInt8(ascii: "-")
                                                 && (position + 2 == sql.count || at(position + 2) <= 0x20)) {
                while position < sql.count && sql[position] != UInt8(ascii: "\n") { position += 1 }
            } else if c == UInt8(ascii: "/") && at(position + 1) == UInt8(ascii: "*") {
                let start = position
                position += 2
                while position < sql.count && !(sql[position] == UInt8(ascii: "*") && at(position + 1) == UInt8(ascii: "/")) {
                    position += 1
                }
                guard position < sql.count else { throw SyntaxError("unterminated comment", at: start, in: sql) }
                position += 2
            } else {
                return
            }
        }
    }

    private mutating func number(from start: Int) throws -> Token {
        func digits() { while position < sql.count && Self.isDigit(sql[position]) { position += 1 } }
        digits()
        if at(position) == UInt8(ascii: "."), Self.isDigit(at(position + 1)) {
            position += 1
            digits()
        }
        if at(position) | 0x20 == UInt8(ascii: "e") {
            let mark = position
            position += 1
            if at(position) == UInt8(ascii: "+") || at(position) == UInt8(ascii: "-") { position += 1 }
            if Self.isDigit(at(position)) { digits() } else { position = mark }
        }
        // "12abc" is neither a number nor a name here: say so rather than read two tokens.
        guard !Self.isWordPart(at(position)) else { throw SyntaxError("malformed number", at: start, in: sql) }
        return token(.number, from: start)
    }

    private mutating func quoted(from start: Int, kind: Token.Kind) throws -> Token {
        let quote = sql[position]
        position += 1
        var bytes: [UInt8] = []
        while position < sql.count {
            let c = sql[position]
            if c == quote {
                if at(position + 1) == quote {   // a doubled quote stands for one
                    bytes.append(quote)
                    position += 2
                    continue
                }
                position += 1
                return Token(kind: kind, text: String(decoding: bytes, as: UTF8.self), offset: start, end: position)
            }
            if c == UInt8(ascii: "\\"), kind == .string, position + 1 < sql.count {
                bytes.append(contentsOf: Self.unescape(sql[position + 1]))
                position += 2
                continue
            }
            bytes.append(c)
            position += 1
        }
        throw SyntaxError(kind == .string ? "unterminated string" : "unterminated quoted name", at: start, in: sql)
    }

    /// MySQL's escapes; `\%` and `\_` keep their backslash, for LIKE.
    private static func unescape(_ c: UInt8) -> [UInt8] {
        switch c {
        case UInt8(ascii: "n"): return [0x0A]
        case UInt8(ascii: "t"): return [0x09]
        case UInt8(ascii: "r"): return [0x0D]
        case UInt8(ascii: "0"): return [0x00]
        case UInt8(ascii: "b"): return [0x08]
        case UInt8(ascii: "Z"): return [0x1A]
        case UInt8(ascii: "%"), UInt8(ascii: "_"): return [UInt8(ascii: "\\"), c]
        default: return [c]
        }
    }

    private func token(_ kind: Token.Kind, from start: Int) -> Token {
        Token(kind: kind, text: text(start, position), offset: start, end: position)
    }

    private func text(_ from: Int, _ to: Int) -> String {
        String(decoding: sql[from..<to], as: UTF8.self)
    }

    private static func isDigit(_ c: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) }

    private static func isWordStart(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c | 0x20) || c == UInt8(ascii: "_") || c >= 0x80
    }

    private static func isWordPart(_ c: UInt8) -> Bool {
        isWordStart(c) || isDigit(c) || c == UInt8(ascii: "$")
    }
}
