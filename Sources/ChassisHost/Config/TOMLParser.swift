/// A TOML parser for configuration files: tables, arrays of tables, dotted and quoted keys,
/// basic and literal strings (single- and multi-line), integers, floats, booleans, arrays and
/// inline tables. Dates are not supported (no chassis option takes one); they are an error.
/// Hand-written because the one TOML package available here cannot be resolved on these machines.
public struct TOMLParser {
    public struct SyntaxError: Error, CustomStringConvertible, Equatable {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    private let chars: [Character]
    private var pos = 0
    private var line = 1

    public static func parse(_ text: String) throws -> TOMLTable {
        var parser = TOMLParser(chars: Array(text))
        return try parser.document()
    }

    private init(chars: [Character]) { self.chars = chars }

    // MARK: document structure

    private mutating func document() throws -> TOMLTable {
        var root = TOMLTable()
        var current: [String] = []     // the path of the table headers write into
        var defined = Set<[String]>()  // explicitly defined [tables], to refuse duplicates
        while true {
            skipBlankLinesAndComments()
            guard let c = peek() else { return root }
            if c == "[" {
                let isArray = peek(1) == "["
                pos += isArray ? 2 : 1
                skipSpaces()
                let path = try key()
                skipSpaces()
                try expect("]")
                if isArray { try expect("]") }
                try endOfLine()
                if isArray {
                    try appendTable(to: &root, path: path)
                    current = path
                } else {
                    guard defined.insert(path).inserted else { throw error("table [\(path.joined(separator: "."))] defined twice") }
                    try ensureTable(in: &root, path: path)
                    current = path
                }
            } else {
                let path = try key()
                skipSpaces()
                try expect("=")
                skipSpaces()
                let v = try value()
                try endOfLine()
                try insert(v, at: current + path, into: &root)
            }
        }
    }

    private mutating func key() throws -> [String] {
        var parts: [String] = []
        repeat {
            skipSpaces()
            if peek() == "." { pos += 1; skipSpaces() }
            guard let c = peek() else { throw error("key expected") }
            if c == "\"" { parts.append(try basicString()) }
            else if c == "'" { parts.append(try literalString()) }
            else {
                var bare = ""
                while let c = peek(), c.isLetter || c.isNumber || c == "_" || c == "-" { bare.append(c); pos += 1 }
                guard !bare.isEmpty else { throw error("key expected, found '\(c)'") }
                parts.append(bare)
            }
            skipSpaces()
        } while peek() == "."
        return parts
    }

    // MARK: values

    private mutating func value() throws -> TOMLValue {
        guard let c = peek() else { throw error("value expected") }
        switch c {
        case "\"":
            if peek(1) == "\"" && peek(2) == "\"" { return .string(try multilineString(literal: false)) }
            return .string(try basicString())
        case "'":
            if peek(1) == "'" && peek(2) == "'" { return .string(try multilineString(literal: true)) }
            return .string(try literalString())
        case "[": return try array()
        case "{": return try inlineTable()
        case "t", "f":
            if consume("true") { return .boolean(true) }
            if consume("false") { return .boolean(false) }
            throw error("unknown value")
        default: return try number()
        }
    }

    private mutating func number() throws -> TOMLValue {
        var text = ""
        while let c = peek(), c.isLetter || c.isNumber || "+-._:".contains(c) { text.append(c); pos += 1 }
        let digits = text.replacingUnderscores
        if let i = Int64(digits) { return .integer(i) }
        if digits.hasPrefix("0x"), let i = Int64(digits.dropFirst(2), radix: 16) { return .integer(i) }
        if digits.hasPrefix("0o"), let i = Int64(digits.dropFirst(2), radix: 8) { return .integer(i) }
        if digits.hasPrefix("0b"), let i = Int64(digits.dropFirst(2), radix: 2) { return .integer(i) }
        switch digits {
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let d = Double(digits) { return .float(d) }
        throw error(text.isEmpty ? "value expected" : "invalid value '\(text)' (dates are not supported; quote text)")
    }

    private mutating func array() throws -> TOMLValue {
        pos += 1
        var items: [TOMLValue] = []
        while true {
            skipBlankLinesAndComments()
            if peek() == "]" { pos += 1; return .array(items) }
            items.append(try value())
            skipBlankLinesAndComments()
            if peek() == "," { pos += 1; continue }
            try expect("]")
            return .array(items)
        }
    }

    private mutating func inlineTable() throws -> TOMLValue {
        pos += 1
        var table = TOMLTable()
        skipSpaces()
        if peek() == "}" { pos += 1; return .table(table) }
        while true {
            skipSpaces()
            let path = try key()
            skipSpaces()
            try expect("=")
            skipSpaces()
            let v = try value()
            var wrapped = TOMLValue.table(table)
            try Self.insert(v, at: path, into: &wrapped, line: line)
            if case .table(let t) = wrapped { table = t }
            skipSpaces()
            if peek() == "," { pos += 1; continue }
            try expect("}")
            return .table(table)
        }
    }

    private mutating func basicString() throws -> String {
        pos += 1
        var out = ""
        while let c = peek() {
            pos += 1
            switch c {
            case "\"": return out
            case "\\": out.unicodeScalars.append(try escape())
            case "\n": throw error("newline in a string")
            default: out.append(c)
            }
        }
        throw error("unterminated string")
    }

    private mutating func literalString() throws -> String {
        pos += 1
        var out = ""
        while let c = peek() {
            pos += 1
            if c == "'" { return out }
            if c == "\n" { throw error("newline in a string") }
            out.append(c)
        }
        throw error("unterminated string")
    }

    private mutating func multilineString(literal: Bool) throws -> String {
        let quote: Character = literal ? "'" : "\""
        pos += 3
        if peek() == "\n" { pos += 1; line += 1 }
        var out = ""
        while let c = peek() {
            if c == quote && peek(1) == quote && peek(2) == quote { pos += 3; return out }
            pos += 1
            if c == "\n" { line += 1 }
            if c == "\\" && !literal {
                if peek() == "\n" || peek() == " " {  // line-ending backslash trims following whitespace
                    while let w = peek(), w.isWhitespace { if w == "\n" { line += 1 }; pos += 1 }
                } else {
                    out.unicodeScalars.append(try escape())
                }
            } else {
                out.append(c)
            }
        }
        throw error("unterminated multi-line string")
    }

    private mutating func escape() throws -> Unicode.Scalar {
        guard let c = peek() else { throw error("unterminated escape") }
        pos += 1
        switch c {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "b": return "\u{08}"
        case "f": return "\u{0C}"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let count = c == "u" ? 4 : 8
            guard pos + count <= chars.count, let v = UInt32(String(chars[pos..<pos + count]), radix: 16),
                  let scalar = Unicode.Scalar(v) else { throw error("invalid unicode escape") }
            pos += count
            return scalar
        default: throw error("invalid escape \\\(c)")
        }
    }

    // MARK: building the tree

    private mutating func insert(_ v: TOMLValue, at path: [String], into root: inout TOMLTable) throws {
        var wrapped = TOMLValue.table(root)
        try Self.insert(v, at: path, into: &wrapped, line: line)
        if case .table(let t) = wrapped { root = t }
    }

    private static func insert(_ v: TOMLValue, at path: [String], into node: inout TOMLValue, line: Int) throws {
        let head = path[0]
        switch node {
        case .table(var t):
            if path.count == 1 {
                guard t[head] == nil else { throw SyntaxError(line: line, message: "key '\(head)' defined twice") }
                t[head] = v
            } else {
                var child = t[head] ?? .table(TOMLTable())
                try insert(v, at: Array(path.dropFirst()), into: &child, line: line)
                t[head] = child
            }
            node = .table(t)
        case .array(var items) where !items.isEmpty:
            // Keys under an array of tables go into its last element.
            var last = items.removeLast()
            try insert(v, at: path, into: &last, line: line)
            items.append(last)
            node = .array(items)
        default:
            throw SyntaxError(line: line, message: "key '\(head)' is not a table")
        }
    }

    private mutating func ensureTable(in root: inout TOMLTable, path: [String]) throws {
        var wrapped = TOMLValue.table(root)
        try Self.descend(&wrapped, path: path, line: line) { node in
            guard node == nil else {
                if case .table = node! { return }
                if case .array = node! { return }
                throw SyntaxError(line: self.line, message: "[\(path.joined(separator: "."))] is already a value")
            }
            node = .table(TOMLTable())
        }
        if case .table(let t) = wrapped { root = t }
    }

    private mutating func appendTable(to root: inout TOMLTable, path: [String]) throws {
        var wrapped = TOMLValue.table(root)
        let line = self.line
        try Self.descend(&wrapped, path: path, line: line) { node in
            switch node {
            case nil: node = .array([.table(TOMLTable())])
            case .array(var items)?: items.append(.table(TOMLTable())); node = .array(items)
            default: throw SyntaxError(line: line, message: "[[\(path.joined(separator: "."))]] is already a value")
            }
        }
        if case .table(let t) = wrapped { root = t }
    }

    /// Walks to `path`, creating intermediate tables, and lets `body` change the leaf.
    private static func descend(_ node: inout TOMLValue, path: [String], line: Int,
                                _ body: (inout TOMLValue?) throws -> Void) throws {
        switch node {
        case .table(var t):
            var child = t[path[0]]
            if path.count == 1 {
                try body(&child)
            } else {
                var next = child ?? .table(TOMLTable())
                try descend(&next, path: Array(path.dropFirst()), line: line, body)
                child = next
            }
            t[path[0]] = child
            node = .table(t)
        case .array(var items) where !items.isEmpty:
            var last = items.removeLast()
            try descend(&last, path: path, line: line, body)
            items.append(last)
            node = .array(items)
        default:
            throw SyntaxError(line: line, message: "'\(path[0])' is not a table")
        }
    }

    // MARK: scanning

    private func peek(_ offset: Int = 0) -> Character? {
        pos + offset < chars.count ? chars[pos + offset] : nil
    }

    private mutating func consume(_ word: String) -> Bool {
        let w = Array(word)
        guard pos + w.count <= chars.count, Array(chars[pos..<pos + w.count]) == w else { return false }
        pos += w.count
        return true
    }

    private mutating func expect(_ c: Character) throws {
        guard peek() == c else { throw error(peek().map { "'\(c)' expected, found '\($0)'" } ?? "'\(c)' expected at end of file") }
        pos += 1
    }

    private mutating func skipSpaces() {
        while let c = peek(), c == " " || c == "\t" { pos += 1 }
    }

    private mutating func skipBlankLinesAndComments() {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\r" { pos += 1 }
            else if c == "\n" || c == "\r\n" { pos += 1; line += 1 }
            else if c == "#" { while let c = peek(), c != "\n" && c != "\r\n" { pos += 1 } }
            else { return }
        }
    }

    private mutating func endOfLine() throws {
        skipSpaces()
        if peek() == "#" { while let c = peek(), c != "\n" && c != "\r\n" { pos += 1 } }
        guard let c = peek() else { return }
        guard c == "\n" || c == "\r\n" || c == "\r" else { throw error("unexpected '\(c)' after value") }
    }

    private func error(_ message: String) -> SyntaxError { SyntaxError(line: line, message: message) }
}

private extension String {
    var replacingUnderscores: String { filter { $0 != "_" } }
}
