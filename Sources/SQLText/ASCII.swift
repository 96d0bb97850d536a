/// Byte classes of the MySQL lexer, over UTF-8 bytes.
enum ASCII {
    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b &- 0x09 < 5 }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    @inline(__always) static func isHexDigit(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }
    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
    /// Unquoted identifiers take letters, digits, `_`, `$` and any non-ASCII byte: one bit per
    /// ASCII byte in two words, so the lexer's hottest test is a shift and a mask.
    @inline(__always) static func isIdentifier(_ b: UInt8) -> Bool {
        let low: UInt64 = 0x03FF_0010_0000_0000   // $ 0-9
        let high: UInt64 = 0x07FF_FFFE_87FF_FFFE  // A-Z _ a-z
        return b >= 0x80 || ((b < 0x40 ? low : high) >> UInt64(b & 63)) & 1 == 1
    }
    @inline(__always) static func upper(_ b: UInt8) -> UInt8 { b &- 0x61 < 26 ? b - 0x20 : b }
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
