/// A MySQL/MariaDB lexer over UTF-8 bytes. It yields every token, trivia included, as a kind and
/// a byte range: no String is made. It never fails: a string or comment that runs off the end is
/// one `.unterminated` token, and any other byte is an `.operator`.
///
/// Backslash escapes in strings follow the server's default mode (not NO_BACKSLASH_ESCAPES), and
/// "double quoted" text is a string (not ANSI_QUOTES). The contents of executable comments
/// (`/*! ... */`, `/*M! ... */`) are tokens; only their markers are trivia.
///
/// The buffer must outlive the tokenizer: use it inside `withUnsafeBufferPointer`, or use `tokens(of:)`.
public struct SQLTokenizer: IteratorProtocol, Sequence {
    public let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var position = 0
    private var inExecutableComment = false
    /// The last token that was not trivia, and where it ended: `.` and `@` mean different things
    /// right after a name (`t.5`, `'user'@'host'`).
    private var previous: SQLTokenKind?
    private var previousEnd = 0

    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    /// Every token of `sql`, for callers that do not hold a buffer.
    public static func tokens<Bytes: Sequence>(of sql: Bytes) -> [SQLToken] where Bytes.Element == UInt8 {
        withContiguousBytes(sql) { Array(SQLTokenizer($0)) }
    }

    public mutating func next() -> SQLToken? {
        guard position < bytes.count else { return nil }
        let start = position
        let kind = scan()
        let token = SQLToken(kind: kind, start: start, end: position)
        if !token.isTrivia {
            previous = kind
            previousEnd = position
        }
        return token
    }

    @inline(__always)
    private func at(_ i: Int) -> UInt8 { i < bytes.count ? bytes[i] : 0 }

    /// The first position from `start` on whose byte fails `test` (or the end).
    @inline(__always)
    private func skip(from start: Int, while test: (UInt8) -> Bool) -> Int {
        var i = start
        while i < bytes.count && test(bytes[i]) { i += 1 }
        return i
    }

    private mutating func scan() -> SQLTokenKind {
        let c = bytes[position]
        switch c {
        case _ where ASCII.isSpace(c):
            position = skip(from: position + 1, while: ASCII.isSpace)
            return .whitespace
        case UInt8(ascii: "#"):
            return lineComment()
        // "--" starts a comment only before a space, a control byte or the end (at() gives 0 there).
        case UInt8(ascii: "-") where at(position + 1) == UInt8(ascii: "-") && at(position + 2) <= 0x20:
            return lineComment()
        case UInt8(ascii: "/") where at(position + 1) == UInt8(ascii: "*"):
            return blockComment()
        case UInt8(ascii: "*") where inExecutableComment && at(position + 1) == UInt8(ascii: "/"):
            position += 2
            inExecutableComment = false
            return .executableCommentEnd
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return quoted(by: c, backslash: true, as: .string)
        case UInt8(ascii: "`"):
            return quoted(by: c, backslash: false, as: .quotedIdentifier)
        case UInt8(ascii: "."):
            if ASCII.isDigit(at(position + 1)) && !(previousEnd == position && (previous == .identifier || previous == .quotedIdentifier)) {
                return number()
            }
            position += 1
            return .dot
        case _ where ASCII.isDigit(c):
            return number()
        case UInt8(ascii: "@"):
            return variable()
        case UInt8(ascii: "?"): position += 1; return .placeholder
        case UInt8(ascii: "("): position += 1; return .leftParen
        case UInt8(ascii: ")"): position += 1; return .rightParen
        case UInt8(ascii: ","): position += 1; return .comma
        case UInt8(ascii: ";"): position += 1; return .semicolon
        case _ where ASCII.isIdentifier(c):
            return word()
        default:
            return op()
        }
    }

    private mutating func lineComment() -> SQLTokenKind {
        while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
        return .comment
    }

    private mutating func blockComment() -> SQLTokenKind {
        let third = at(position + 2)
        if third == UInt8(ascii: "!") || (third == UInt8(ascii: "M") && at(position + 3) == UInt8(ascii: "!")) {
            position += third == UInt8(ascii: "!") ? 3 : 4
            // The optional server version (5 or 6 digits) belongs to the marker.
            var digits = 0
            while digits < 6 && ASCII.isDigit(at(position)) { position += 1; digits += 1 }
            inExecutableComment = true
            return .executableCommentStart
        }
        position += 2
        while position + 1 < bytes.count {
            if bytes[position] == UInt8(ascii: "*") && bytes[position + 1] == UInt8(ascii: "/") {
                position += 2
                return .comment
            }
            position += 1
        }
        position = bytes.count
        return .unterminated
    }

    /// 'text' with \x escapes and '' for a quote; `name` with `` for a backtick.
    private mutating func quoted(by quote: UInt8, backslash: Bool, as kind: SQLTokenKind) -> SQLTokenKind {
        position += 1
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\\") && backslash {
                position += 2
            } else if b == quote {
                if at(position + 1) == quote && position + 1 < bytes.count {
                    position += 2
                } else {
                    position += 1
                    return kind
                }
            } else {
                position += 1
            }
        }
        position = bytes.count
        return .unterminated
    }

    private mutating func number() -> SQLTokenKind {
        let start = position
        if bytes[position] == UInt8(ascii: "0") {
            let x = at(position + 1) | 0x20
            if x == UInt8(ascii: "x") && ASCII.isHexDigit(at(position + 2)) {
                position += 2
                while ASCII.isHexDigit(at(position)) { position += 1 }
                return ASCII.isIdentifier(at(position)) ? restOfWord(from: start) : .hexNumber
            }
            if x == UInt8(ascii: "b") && (at(position + 2) == UInt8(ascii: "0") || at(position + 2) == UInt8(ascii: "1")) {
                position += 2
                while at(position) == UInt8(ascii: "0") || at(position) == UInt8(ascii: "1") { position += 1 }
                return ASCII.isIdentifier(at(position)) ? restOfWord(from: start) : .bitNumber
            }
        }
        while ASCII.isDigit(at(position)) { position += 1 }
        var isInteger = true
        if at(position) == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            while ASCII.isDigit(at(position)) { position += 1 }
        }
        if at(position) | 0x20 == UInt8(ascii: "e") {
            let sign = at(position + 1) == UInt8(ascii: "+") || at(position + 1) == UInt8(ascii: "-") ? 1 : 0
            if ASCII.isDigit(at(position + 1 + sign)) {
                isInteger = false
                position += 1 + sign
                while ASCII.isDigit(at(position)) { position += 1 }
            }
        }
        // Names may begin with digits: 1abc is an identifier, as the server reads it.
        if isInteger && ASCII.isIdentifier(at(position)) { return restOfWord(from: start) }
        return .number
    }

    private mutating func restOfWord(from start: Int) -> SQLTokenKind {
        position = skip(from: start, while: ASCII.isIdentifier)
        return .identifier
    }

    private mutating func word() -> SQLTokenKind {
        let first = bytes[position] | 0x20
        if at(position + 1) == UInt8(ascii: "'") {
            switch first {
            case UInt8(ascii: "x"): position += 1; return quoted(by: UInt8(ascii: "'"), backslash: false, as: .hexNumber)
            case UInt8(ascii: "b"): position += 1; return quoted(by: UInt8(ascii: "'"), backslash: false, as: .bitNumber)
            case UInt8(ascii: "n"): position += 1; return quoted(by: UInt8(ascii: "'"), backslash: true, as: .string)
            default: break
            }
        }
        position = skip(from: position + 1, while: ASCII.isIdentifier)
        return .identifier
    }

    private mutating func variable() -> SQLTokenKind {
        let next = at(position + 1)
        if next == UInt8(ascii: "@") {
            position += 2
            while ASCII.isIdentifier(at(position)) || at(position) == UInt8(ascii: ".") { position += 1 }
            return .systemVariable
        }
        // 'user'@'host' in account names: the @ joins two names, it starts no variable.
        if previousEnd == position && (previous == .identifier || previous == .quotedIdentifier || previous == .string) {
            position += 1
            return .operator
        }
        position += 1
        switch next {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return quoted(by: next, backslash: true, as: .userVariable)
        case UInt8(ascii: "`"):
            return quoted(by: next, backslash: false, as: .userVariable)
        default:
            let nameStart = position
            while ASCII.isIdentifier(at(position)) || at(position) == UInt8(ascii: ".") { position += 1 }
            return position > nameStart ? .userVariable : .operator
        }
    }

    /// The longest operator at the position: <=> ->> := <= >= <> != << >> && || ->, else one byte.
    private mutating func op() -> SQLTokenKind {
        let a = bytes[position], b = at(position + 1)
        switch (a, b) {
        case (UInt8(ascii: "<"), UInt8(ascii: "=")):
            position += at(position + 2) == UInt8(ascii: ">") ? 3 : 2
        case (UInt8(ascii: "-"), UInt8(ascii: ">")):
            position += at(position + 2) == UInt8(ascii: ">") ? 3 : 2
        case (UInt8(ascii: ":"), UInt8(ascii: "=")), (UInt8(ascii: ">"), UInt8(ascii: "=")), (UInt8(ascii: "<"), UInt8(ascii: ">")),
             (UInt8(ascii: "!"), UInt8(ascii: "=")), (UInt8(ascii: "<"), UInt8(ascii: "<")), (UInt8(ascii: ">"), UInt8(ascii: ">")),
             (UInt8(ascii: "&"), UInt8(ascii: "&")), (UInt8(ascii: "|"), UInt8(ascii: "|")):
            position += 2
        default:
            position += 1
        }
        return .operator
    }
}
