/// The digest of a statement: its text with the values taken out, so that every execution of
/// the same query shape groups under one id.
///
/// - literals (strings, numbers, hex and bit values, `_charset'..'`, unary `-5`) become `?`;
///   TRUE, FALSE and NULL stay words
/// - a list of values after IN, and the rows of VALUES, fold to `(?+)`: `IN (1,2,3)` -> `IN (?+)`,
///   `VALUES (1,'a'),(2,'b')` -> `VALUES (?+)`
/// - comments go (executable comments keep their content), each run of whitespace and comments
///   becomes one space, trailing semicolons go
/// - keywords are uppercased; names keep their case; `name` loses its backticks when it needs none
///
/// The hash is 64-bit FNV-1a of the text's UTF-8 bytes: stable across processes.
public enum SQLDigest {
    public static func normalize(_ sql: UnsafeBufferPointer<UInt8>) -> (text: String, hash: UInt64) {
        var normalizer = Normalizer(sql)
        return normalizer.run()
    }

    public static func normalize(_ sql: UnsafeRawBufferPointer) -> (text: String, hash: UInt64) {
        normalize(UnsafeBufferPointer(start: sql.baseAddress?.assumingMemoryBound(to: UInt8.self), count: sql.count))
    }

    public static func normalize<Bytes: Sequence>(_ sql: Bytes) -> (text: String, hash: UInt64) where Bytes.Element == UInt8 {
        withContiguousBytes(sql) { normalize($0) }
    }

    public static func normalize(_ sql: String) -> (text: String, hash: UInt64) {
        normalize(sql.utf8)
    }
}

private struct Normalizer {
    /// What was written last: decides whether a `-` is unary and a `.` a qualifier.
    enum Last { case start, value, name, keyword, open, close, comma, dot, other }

    let bytes: UnsafeBufferPointer<UInt8>
    var tokens: SignificantTokens
    var out: [UInt8] = []
    var last = Last.start
    /// IN, VALUES or VALUE was written last, so a `(` may open a foldable list.
    var listKeyword = false
    var valuesKeyword = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        tokens = SignificantTokens(bytes)
        out.reserveCapacity(bytes.count)
    }

    mutating func run() -> (text: String, hash: UInt64) {
        while let t = tokens.next() { write(t, space: tokens.afterTrivia) }
        while let b = out.last, b == UInt8(ascii: ";") || b == UInt8(ascii: " ") { out.removeLast() }
        return (String(decoding: out, as: UTF8.self), FNV1a.hash(out))
    }

    private mutating func write(_ t: SQLToken, space: Bool) {
        let afterListKeyword = listKeyword
        listKeyword = false
        switch t.kind {
        case _ where t.isLiteral:
            value(space)
        case .identifier:
            if introducesString(t, in: tokens) {
                _ = tokens.next()
                value(space)
            } else if last != .dot && SQLKeywords.contains(bytes, t) {
                separate(space)
                for i in t.range { out.append(ASCII.upper(bytes[i])) }
                let isValueWord = isValueWord(t)
                last = isValueWord ? .value : .keyword
                valuesKeyword = bytes.spells(t, "VALUES") || bytes.spells(t, "VALUE")
                listKeyword = valuesKeyword || bytes.spells(t, "IN")
            } else {
                copy(t, space)
                last = .name
            }
        case .quotedIdentifier:
            let inner = SQLToken(kind: .identifier, start: t.start + 1, end: t.end - 1)
            copy(needsQuotes(inner) ? t : inner, space)
            last = .name
        case .operator where isSign(t) && unary:
            if let n = tokens.peek(), n.kind == .number || n.kind == .hexNumber || n.kind == .bitNumber {
                _ = tokens.next()
                value(space)
            } else {
                copy(t, space)
                last = .other
            }
        case .leftParen:
            var lookahead = tokens
            if afterListKeyword && valueList(&lookahead) {
                tokens = lookahead
                if valuesKeyword { skipMoreRows() }
                separate(space)
                out.append(contentsOf: "(?+)".utf8)
                last = .close
            } else {
                copy(t, space)
                last = .open
            }
        case .rightParen:
            copy(t, space)
            last = .close
        case .comma:
            copy(t, space)
            last = .comma
        case .dot:
            copy(t, space)
            last = .dot
        case .userVariable, .systemVariable:
            copy(t, space)
            last = .name
        default:
            copy(t, space)
            last = .other
        }
    }

    private var unary: Bool {
        switch last {
        case .value, .name, .close, .dot: return false
        default: return true
        }
    }

    private mutating func separate(_ space: Bool) {
        if space && !out.isEmpty { out.append(UInt8(ascii: " ")) }
    }

    private mutating func copy(_ t: SQLToken, _ space: Bool) {
        separate(space)
        out.append(contentsOf: bytes[t.range])
    }

    private mutating func value(_ space: Bool) {
        separate(space)
        out.append(UInt8(ascii: "?"))
        last = .value
    }

    private func isSign(_ t: SQLToken) -> Bool {
        t.end - t.start == 1 && (bytes[t.start] == UInt8(ascii: "-") || bytes[t.start] == UInt8(ascii: "+"))
    }

    private func isValueWord(_ t: SQLToken) -> Bool {
        bytes.spells(t, "NULL") || bytes.spells(t, "TRUE") || bytes.spells(t, "FALSE") || bytes.spells(t, "DEFAULT")
    }

    /// `_utf8mb4'text'`: a charset introducer glued to a string is part of the literal.
    private func introducesString(_ t: SQLToken, in tokens: SignificantTokens) -> Bool {
        guard bytes[t.start] == UInt8(ascii: "_"), let n = tokens.peek() else { return false }
        return n.kind == .string && n.start == t.end
    }

    /// A backticked name keeps its quotes unless it is a plain word that is not a keyword.
    private func needsQuotes(_ inner: SQLToken) -> Bool {
        guard inner.end > inner.start, !ASCII.isDigit(bytes[inner.start]) else { return true }
        for i in inner.range where !(ASCII.isIdentifier(bytes[i]) && bytes[i] < 0x80) { return true }
        return SQLKeywords.contains(bytes, inner)
    }

    /// After a `(`: values separated by commas up to the `)`.
    private func valueList(_ it: inout SignificantTokens) -> Bool {
        while true {
            guard listValue(&it), let separator = it.next() else { return false }
            if separator.kind == .rightParen { return true }
            if separator.kind != .comma { return false }
        }
    }

    private func listValue(_ it: inout SignificantTokens) -> Bool {
        guard var t = it.next() else { return false }
        while t.kind == .operator && isSign(t) {
            guard let n = it.next() else { return false }
            t = n
        }
        if t.isLiteral { return true }
        guard t.kind == .identifier else { return false }
        if isValueWord(t) { return true }
        if introducesString(t, in: it) {
            _ = it.next()
            return true
        }
        return false
    }

    /// VALUES (...), (...): every further row of values folds into the first.
    private mutating func skipMoreRows() {
        while true {
            var lookahead = tokens
            guard lookahead.next()?.kind == .comma, lookahead.next()?.kind == .leftParen, valueList(&lookahead) else { return }
            tokens = lookahead
        }
    }
}
