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
    var out = Output()
    var last = Last.start
    /// IN, VALUES or VALUE was written last, so a `(` may open a foldable list.
    var listKeyword = false
    var valuesKeyword = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        tokens = SignificantTokens(bytes)
    }

    /// Writes straight into the String's storage. The text is never longer than the input plus one
    /// byte per folded list (`(1)` -> `(?+)`), so twice the input always fits.
    mutating func run() -> (text: String, hash: UInt64) {
        var hash: UInt64 = 0
        let text = String(unsafeUninitializedCapacity: bytes.count * 2 + 8) { buffer in
            out = Output(buffer: buffer)
            while let t = tokens.next() { write(t, space: tokens.afterTrivia) }
            while let b = out.last, b == UInt8(ascii: ";") || b == UInt8(ascii: " ") { out.count -= 1 }
            hash = FNV1a.hash(UnsafeBufferPointer(rebasing: buffer[..<out.count]))
            return out.count
        }
        return (text, hash)
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
            } else if last != .dot, let role = SQLKeywords.role(bytes, t) {
                separate(space)
                for i in t.range { out.append(ASCII.upper(bytes[i])) }
                last = role == .value ? .value : .keyword
                valuesKeyword = role == .valuesList
                listKeyword = role == .valuesList || role == .inList
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
                for b in "(?+)".utf8 { out.append(b) }
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
        if space && out.count > 0 { out.append(UInt8(ascii: " ")) }
    }

    private mutating func copy(_ t: SQLToken, _ space: Bool) {
        separate(space)
        out.append(UnsafeBufferPointer(rebasing: bytes[t.range]))
    }

    private mutating func value(_ space: Bool) {
        separate(space)
        out.append(UInt8(ascii: "?"))
        last = .value
    }

    private func isSign(_ t: SQLToken) -> Bool {
        t.end - t.start == 1 && (bytes[t.start] == UInt8(ascii: "-") || bytes[t.start] == UInt8(ascii: "+"))
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
        return SQLKeywords.role(bytes, inner) != nil
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
        if SQLKeywords.role(bytes, t) == .value { return true }
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

/// The normalized text as it is written, in the String's own storage.
private struct Output {
    var buffer = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    var count = 0

    var last: UInt8? { count > 0 ? buffer[count - 1] : nil }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        guard count < buffer.count else { return }
        buffer[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        let n = min(bytes.count, buffer.count - count)
        guard n > 0, let source = bytes.baseAddress, let target = buffer.baseAddress else { return }
        (target + count).update(from: source, count: n)
        count += n
    }
}
