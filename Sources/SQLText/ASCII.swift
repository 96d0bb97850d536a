/// Byte classes of the MySQL lexer, over UTF-8 bytes.
enum ASCII {
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isHexDigit(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x66) }
    static func isLetter(_ b: UInt8) -> Bool { b | 0x20 >= 0x61 && b | 0x20 <= 0x7A }
    /// Unquoted identifiers take letters, digits, `_`, `$` and any non-ASCII byte.
    static func isIdentifier(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) || b == 0x5F || b == 0x24 || b >= 0x80 }
    static func upper(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x7A ? b - 0x20 : b }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Whether the token's bytes spell `word` (an uppercase ASCII literal), ignoring ASCII case.
    func spells(_ token: SQLToken, _ word: StaticString) -> Bool {
        guard token.end - token.start == word.utf8CodeUnitCount else { return false }
        let w = word.utf8Start
        for i in 0..<word.utf8CodeUnitCount where ASCII.upper(self[token.start + i]) != w[i] { return false }
        return true
    }

    func byte(_ token: SQLToken) -> UInt8 { self[token.start] }
}

/// Runs `body` over the bytes contiguously, copying only when the sequence has no contiguous storage.
@inline(__always)
func withContiguousBytes<Bytes: Sequence, R>(_ bytes: Bytes, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R where Bytes.Element == UInt8 {
    if let result = bytes.withContiguousStorageIfAvailable(body) { return result }
    return Array(bytes).withUnsafeBufferPointer(body)
}
