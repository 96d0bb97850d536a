/// Finds a word among a fixed set, ignoring ASCII case, without making a String or hashing:
/// candidates are bucketed by length and uppercase first byte, so a lookup compares a handful at
/// most. The tables live for the whole process in plain memory: a lookup touches no reference count.
final class WordTable<Value>: @unchecked Sendable {
    private static var maxLength: Int { 24 }
    private static var bucketCount: Int { (maxLength + 1) * 32 }

    private let text: UnsafeMutablePointer<UInt8>        // every word, uppercase, back to back
    private let entries: UnsafeMutablePointer<Entry>     // sorted by bucket
    private let bucketStart: UnsafeMutablePointer<Int>   // bucket b is entries[bucketStart[b] ..< bucketStart[b + 1]]

    private struct Entry {
        var offset: Int
        var value: Value
    }

    init(_ words: [(String, Value)]) {
        let sorted = words.map { (Array($0.0.utf8), $0.1) }.sorted { Self.bucket($0.0) < Self.bucket($1.0) }
        text = .allocate(capacity: sorted.reduce(0) { $0 + $1.0.count })
        entries = .allocate(capacity: sorted.count)
        bucketStart = .allocate(capacity: Self.bucketCount + 1)
        var offset = 0, next = 0
        for b in 0...Self.bucketCount {
            bucketStart[b] = next
            while next < sorted.count && Self.bucket(sorted[next].0) == b {
                let (word, value) = sorted[next]
                precondition(word.count <= Self.maxLength && word == word.map(ASCII.upper), "uppercase words up to 24 bytes")
                (text + offset).initialize(from: word, count: word.count)
                (entries + next).initialize(to: Entry(offset: offset, value: value))
                offset += word.count
                next += 1
            }
        }
    }

    private static func bucket(_ word: [UInt8]) -> Int { bucket(word.count, word[0]) }

    @inline(__always)
    private static func bucket(_ length: Int, _ first: UInt8) -> Int { length << 5 | Int(ASCII.upper(first) & 31) }

    func lookup(_ bytes: UnsafeBufferPointer<UInt8>, _ token: SQLToken) -> Value? {
        let length = token.end - token.start
        guard length > 0, length <= Self.maxLength else { return nil }
        let b = Self.bucket(length, bytes[token.start])
        candidates: for e in bucketStart[b]..<bucketStart[b + 1] {
            let word = text + entries[e].offset
            for i in 0..<length where ASCII.upper(bytes[token.start + i]) != word[i] { continue candidates }
            return entries[e].value
        }
        return nil
    }
}
