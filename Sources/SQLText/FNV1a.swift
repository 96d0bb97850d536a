/// 64-bit FNV-1a: stable across runs and platforms (unlike Hasher), so digest ids can be compared
/// between processes and restarts.
public struct FNV1a {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    public init() {}

    @inline(__always)
    public mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* Self.prime
    }

    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var h = FNV1a()
        for b in bytes { h.add(b) }
        return h.value
    }

    /// Adds a run of bytes eight at a time, then its length. Not FNV-1a of the bytes any more:
    /// for fingerprints that stay in one process.
    @inline(__always)
    public mutating func add(run bytes: UnsafeRawBufferPointer) {
        var k = 0
        if let base = bytes.baseAddress {
            while k + 8 <= bytes.count {
                value = (value ^ base.loadUnaligned(fromByteOffset: k, as: UInt64.self)) &* Self.prime
                k += 8
            }
        }
        while k < bytes.count {
            add(bytes[k])
            k += 1
        }
        value = (value ^ UInt64(bytes.count)) &* Self.prime
    }
}
