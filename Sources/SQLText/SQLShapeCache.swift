/// Fingerprints (SQLShape) of statements whose shape was seen recently, found by comparing bytes:
/// a statement equal to a kept one outside its masked values, with values of the same kinds in
/// those places (a number where a number was, a quoted string where a string was), masks the
/// same way and has the same fingerprint. The comparison goes eight bytes at a time and only
/// parses the values, where the fingerprint tests every byte for the ones that may start a value.
///
/// One per thread (nothing in it is locked; 32 KB): 32 groups of 4 kept statements. A statement
/// is looked up by its first `keyLength` bytes (their hash picks the group and is compared
/// first), so only statements whose first value comes after those bytes are kept: with a value
/// among them, every value would make a key of its own. Those, statements longer than
/// `maxLength` bytes and ones with more than `maxValues` values are fingerprinted each time. A
/// group that keeps missing (more shapes share its keys than it holds) stops comparing for a while.
public struct SQLShapeCache {
    public static let keyLength = 24
    public static let maxLength = 200
    public static let maxValues = 8

    private static let groups = 32
    private static let ways = 4
    private static let slotSize = 256
    // A slot: the fingerprint, the key's hash, the length (0: empty), the value count, the kinds
    // (bit k: value k is a string), the values' start and end (UInt16 each), the statement's bytes.
    private static let keyOffset = 8
    private static let lengthOffset = 16
    private static let countOffset = 18
    private static let kindsOffset = 19
    private static let valuesOffset = 20
    private static let bytesOffset = 56
    private static let replacementOffset = groups * ways * slotSize   // one byte per group: the next way
    /// One byte per group: the misses in a row there. Past `bypassAfter` the group is mostly
    /// missing (more shapes share its keys than it holds, or its statements cannot be kept) and
    /// comparing would only add to the scan: its statements are scanned as without a cache, and
    /// one in `retryEvery` looks again.
    private static let missesOffset = replacementOffset + groups
    private static let bypassAfter: UInt8 = 16
    private static let retryEvery: UInt8 = 32

    public let storage: UnsafeMutableRawPointer

    /// Wraps storage made by `allocate()`.
    public init(_ storage: UnsafeMutableRawPointer) { self.storage = storage }

    public static func allocate() -> SQLShapeCache {
        let bytes = missesOffset + groups
        let storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        return SQLShapeCache(storage)
    }

    public func deallocate() { storage.deallocate() }

    /// The statement's fingerprint, as `SQLShape.fingerprint` gives it.
    public func fingerprint(_ sql: UnsafeBufferPointer<UInt8>) -> UInt64? {
        let n = sql.count
        guard n >= Self.keyLength, n <= Self.maxLength, let text = sql.baseAddress else { return SQLShape.fingerprint(sql) }
        let key = Self.key(UnsafeRawPointer(text))
        let group = Int(truncatingIfNeeded: key >> 59)
        let misses = storage + Self.missesOffset + group
        let inARow = misses.load(as: UInt8.self)
        if inARow >= Self.bypassAfter {
            let next = inARow &+ 1
            misses.storeBytes(of: next == Self.bypassAfter &+ Self.retryEvery ? Self.bypassAfter &- 1 : next, as: UInt8.self)
            return SQLShape.fingerprint(sql)
        }
        if let shape = kept(text, n, key: key, group: group) {
            misses.storeBytes(of: 0, as: UInt8.self)
            return shape
        }
        misses.storeBytes(of: inARow &+ 1, as: UInt8.self)
        return miss(sql, key: key, group: group)
    }

    /// The fingerprint of a kept statement of this one's shape; nil when none is kept.
    func kept(_ sql: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard sql.count >= Self.keyLength, sql.count <= Self.maxLength, let text = sql.baseAddress else { return nil }
        let key = Self.key(UnsafeRawPointer(text))
        return kept(text, sql.count, key: key, group: Int(truncatingIfNeeded: key >> 59))
    }

    @inline(__always)
    private func kept(_ text: UnsafePointer<UInt8>, _ n: Int, key: UInt64, group: Int) -> UInt64? {
        let groupStart = storage + group * Self.ways * Self.slotSize
        for way in 0..<Self.ways {
            let slot = groupStart + way * Self.slotSize
            if slot.load(fromByteOffset: Self.keyOffset, as: UInt64.self) == key && Self.matches(slot, text, n) {
                return slot.load(as: UInt64.self)
            }
        }
        return nil
    }

    /// Fingerprints the statement and keeps it in its group, in place of the oldest there.
    @inline(never)
    private func miss(_ sql: UnsafeBufferPointer<UInt8>, key: UInt64, group: Int) -> UInt64? {
        withUnsafeTemporaryAllocation(of: SQLShape.MaskedValue.self, capacity: Self.maxValues) { values in
            var count = 0
            let shape = SQLShape.fingerprint(sql, recording: values.baseAddress!, capacity: Self.maxValues, count: &count)
            if let shape, count <= Self.maxValues, count == 0 || values[0].start >= Self.keyLength {
                let next = storage + Self.replacementOffset + group
                let way = Int(next.load(as: UInt8.self))
                next.storeBytes(of: UInt8((way + 1) % Self.ways), as: UInt8.self)
                Self.keep(shape, key, sql.baseAddress!, sql.count, values.baseAddress!, count,
                          in: storage + (group * Self.ways + way) * Self.slotSize)
            }
            return shape
        }
    }

    /// The first `keyLength` bytes, mixed into one word (its top five bits pick the group).
    @inline(__always)
    private static func key(_ text: UnsafeRawPointer) -> UInt64 {
        var h = text.loadUnaligned(as: UInt64.self) &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ text.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) &* 0xC2B2_AE3D_27D4_EB4F
        h = (h ^ text.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) &* 0x1656_67B1_9E37_79F9
        return h ^ (h >> 29)
    }

    private static func keep(_ shape: UInt64, _ key: UInt64, _ text: UnsafePointer<UInt8>, _ n: Int,
                             _ values: UnsafePointer<SQLShape.MaskedValue>, _ count: Int, in slot: UnsafeMutableRawPointer) {
        slot.storeBytes(of: shape, as: UInt64.self)
        slot.storeBytes(of: key, toByteOffset: keyOffset, as: UInt64.self)
        slot.storeBytes(of: UInt16(n), toByteOffset: lengthOffset, as: UInt16.self)
        slot.storeBytes(of: UInt8(count), toByteOffset: countOffset, as: UInt8.self)
        var kinds: UInt8 = 0
        for k in 0..<count {
            if values[k].isString { kinds |= 1 << UInt8(k) }
            slot.storeBytes(of: UInt16(values[k].start), toByteOffset: valuesOffset + 4 * k, as: UInt16.self)
            slot.storeBytes(of: UInt16(values[k].end), toByteOffset: valuesOffset + 4 * k + 2, as: UInt16.self)
        }
        slot.storeBytes(of: kinds, toByteOffset: kindsOffset, as: UInt8.self)
        (slot + bytesOffset).copyMemory(from: text, byteCount: n)
    }

    /// Whether the statement equals the slot's outside its values, with a value of the same kind
    /// in each of their places. The scan that made the slot stopped at the same bytes, and took
    /// the same decisions, as it would in this statement: each decision looks only at bytes that
    /// are equal in both, or at the value itself, whose extent is found here by the same rules.
    @inline(__always)
    private static func matches(_ slot: UnsafeRawPointer, _ text: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let length = Int(slot.load(fromByteOffset: lengthOffset, as: UInt16.self))
        guard length > 0 else { return false }
        let kept = slot + bytesOffset
        let count = Int(slot.load(fromByteOffset: countOffset, as: UInt8.self))
        let kinds = slot.load(fromByteOffset: kindsOffset, as: UInt8.self)
        var k = 0   // in the kept statement
        var q = 0   // in this one
        for v in 0..<count {
            let start = Int(slot.load(fromByteOffset: valuesOffset + 4 * v, as: UInt16.self))
            let same = start &- k   // all of these are below maxLength: no overflow checks
            guard q &+ same < n, equal(kept + k, UnsafeRawPointer(text + q), same) else { return false }
            q &+= same
            k = Int(slot.load(fromByteOffset: valuesOffset + 4 * v + 2, as: UInt16.self))
            if kinds >> UInt8(v) & 1 != 0 {
                guard text[q] == UInt8(ascii: "'"),
                      let close = SQLShape.closing(UInt8(ascii: "'"), in: UnsafeBufferPointer(start: text, count: n), after: q)
                else { return false }
                q = close &+ 1
            } else {
                guard ASCII.isDigit(text[q]) else { return false }
                q = SQLShape.numberEnd(text, n, from: q)
            }
        }
        let rest = length &- k
        return n &- q == rest && equal(kept + k, UnsafeRawPointer(text + q), rest)
    }

    /// Whether `count` bytes at `a` and `b` are equal, eight at a time (the last eight overlap
    /// the ones before them).
    @inline(__always)
    static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        if count < 8 {
            var i = 0
            while i < count {
                if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
                i += 1
            }
            return true
        }
        var i = 0
        while i + 8 < count {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i += 8
        }
        return a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }
}
