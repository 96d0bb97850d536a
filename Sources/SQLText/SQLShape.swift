/// A cheap fingerprint of a statement's text with its plain values masked, for caching digests:
/// statements of equal shape normalize to the same digest, so a table that keeps shape -> digest
/// normalizes a query shape once, then only fingerprints it (one pass, no keyword lookups, no
/// allocation).
///
/// Masking is conservative, so that equal shapes always mean equal digests: only unsigned decimal
/// numbers standing alone (`5`, `1.25`; not `sbtest1`, `t.5`, `1e5`, `0x1F`, `@1`) and single-quoted
/// strings without backslashes are masked; everything else, including double-quoted and backtick
/// text, is fingerprinted byte for byte. Different spellings of one digest (case, spacing, list
/// lengths) just get shapes of their own. Text with a comment or a backslash in a string has no
/// shape (nil): only the tokenizer finds those boundaries right. Fingerprints are for use within
/// one process (unlike digests, they are not meant to be stored or compared across versions).
public enum SQLShape {
    /// The marker a masked value leaves in the fingerprint: a byte SQL text cannot hold.
    private static let masked: UInt8 = 0xFF

    public static func fingerprint(_ sql: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var count = 0
        return scan(sql, recording: nil, capacity: 0, count: &count)
    }

    /// A masked value's place: `start..<end` in the text; a quoted string or a number.
    struct MaskedValue {
        var start: Int
        var end: Int
        var isString: Bool
    }

    /// The fingerprint, and the masked values in `recording` (the first `capacity` of them;
    /// `count` says how many there were).
    static func fingerprint(_ sql: UnsafeBufferPointer<UInt8>, recording: UnsafeMutablePointer<MaskedValue>, capacity: Int,
                            count: inout Int) -> UInt64? {
        scan(sql, recording: recording, capacity: capacity, count: &count)
    }

    @inline(__always)
    private static func scan(_ sql: UnsafeBufferPointer<UInt8>, recording: UnsafeMutablePointer<MaskedValue>?, capacity: Int,
                             count: inout Int) -> UInt64? {
        let n = sql.count
        guard let base = sql.baseAddress else { return FNV1a().value }
        let special = specialBytes   // once: each access to a global checks its initialization
        var hash = FNV1a()
        // Everything that is not masked goes into the fingerprint as it is, in runs: the bytes
        // from `run` up to the next masked value (or the end), eight at a time, then the run's
        // length. A run ends only at a masked value, so most statements are one or two runs.
        var run = 0
        var i = 0
        while true {
            i = nextSpecial(in: sql, from: i, special)
            if i == n { break }
            let b = base[i]
            switch b {
            case UInt8(ascii: "'"):
                guard let end = closing(UInt8(ascii: "'"), in: sql, after: i) else { return nil }
                if let recording {
                    if count < capacity { recording[count] = MaskedValue(start: i, end: end + 1, isString: true) }
                    count += 1
                }
                hash.add(run: base, from: run, to: i)
                hash.add(masked)
                i = end + 1
                run = i
            case UInt8(ascii: "\""), UInt8(ascii: "`"):
                // A quoted name stays in the run, byte for byte; its end is needed so that a quote
                // or a digit inside it is not taken for one outside.
                guard let end = closing(b, in: sql, after: i) else { return nil }
                i = end + 1
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let end = numberEnd(base, n, from: i)
                let previous = i > 0 ? base[i - 1] : UInt8(ascii: " ")
                let standsAlone = !ASCII.isIdentifier(previous) && previous != UInt8(ascii: ".") && previous != UInt8(ascii: "@")
                    && (end == n || (!ASCII.isIdentifier(base[end]) && base[end] != UInt8(ascii: ".")))
                if standsAlone {
                    if let recording {
                        if count < capacity { recording[count] = MaskedValue(start: i, end: end, isString: false) }
                        count += 1
                    }
                    hash.add(run: base, from: run, to: i)
                    hash.add(masked)
                    run = end
                }
                i = end
            case UInt8(ascii: "#"):
                return nil
            case UInt8(ascii: "-") where i + 1 < n && base[i + 1] == UInt8(ascii: "-"):
                return nil
            case UInt8(ascii: "/") where i + 1 < n && base[i + 1] == UInt8(ascii: "*"):
                return nil
            default:   // a lone '-' or '/'
                i += 1
            }
        }
        hash.add(run: base, from: run, to: n)
        return hash.value
    }

    /// The bytes the scan stops at: quotes, digits and what may open a comment (`"` `#` `'` `-`
    /// `/` 0-9 and backtick). A table: it measured cheaper here than a bit mask in a word (the
    /// scan loads it once and indexes it directly; this is for tests).
    static func isSpecial(_ b: UInt8) -> Bool { specialBytes[Int(b)] != 0 }

    private static let specialBytes: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        table.initialize(repeating: 0, count: 256)
        for b in Array("\"#'-/`0123456789".utf8) { table[Int(b)] = 1 }
        return UnsafePointer(table)
    }()

    /// The index of the first special byte from `start` on (or the end), found eight
    /// bytes per step while none of them can be one.
    @inline(__always)
    private static func nextSpecial(in sql: UnsafeBufferPointer<UInt8>, from start: Int, _ special: UnsafePointer<UInt8>) -> Int {
        let n = sql.count
        guard let base = sql.baseAddress else { return n }
        var i = start
        while i + 8 <= n {
            let candidates = maybeSpecial(UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)))
            if candidates == 0 {
                i += 8
                continue
            }
            let at = i + candidates.trailingZeroBitCount >> 3   // the lowest address comes first
            if special[Int(base[at])] != 0 { return at }
            i = at + 1   // a harmless neighbour such as `(` or `,`
        }
        while i < n && special[Int(base[i])] == 0 { i += 1 }
        return i
    }

    /// The high bit of every byte of `word` that is 0x22-0x39 (the quotes, `#`, `-`, `/` and the
    /// digits, with some harmless neighbours) or a backtick: a superset of the special bytes,
    /// tested eight at once. Bytes of 0x80 and up (UTF-8) never match.
    @inline(__always)
    static func maybeSpecial(_ word: UInt64) -> UInt64 {
        let high: UInt64 = 0x8080_8080_8080_8080
        let low = word & ~high   // seven bits per byte: the additions below never carry
        let from22 = (low &+ 0x5E5E_5E5E_5E5E_5E5E) & high
        let from3A = (low &+ 0x4646_4646_4646_4646) & high
        let flipped = low ^ 0x6060_6060_6060_6060   // zero where a backtick was
        let backtick = ~((flipped &+ 0x7F7F_7F7F_7F7F_7F7F) | flipped) & high
        return ((from22 & ~from3A) | backtick) & ~word
    }

    /// Where the number whose first digit is at `start` ends: digits, then a `.` and digits.
    @inline(__always)
    static func numberEnd(_ base: UnsafePointer<UInt8>, _ n: Int, from start: Int) -> Int {
        var end = start + 1
        while end < n && ASCII.isDigit(base[end]) { end += 1 }
        if end < n && base[end] == UInt8(ascii: ".") {
            end += 1
            while end < n && ASCII.isDigit(base[end]) { end += 1 }
        }
        return end
    }

    /// The index of the quote that closes the one at `start` (a doubled quote is part of the
    /// text); nil when there is none or a backslash comes first.
    static func closing(_ quote: UInt8, in sql: UnsafeBufferPointer<UInt8>, after start: Int) -> Int? {
        var j = start + 1
        while j < sql.count {
            let c = sql[j]
            if c == UInt8(ascii: "\\") { return nil }
            if c == quote {
                if j + 1 < sql.count && sql[j + 1] == quote { j += 2; continue }
                return j
            }
            j += 1
        }
        return nil
    }
}
