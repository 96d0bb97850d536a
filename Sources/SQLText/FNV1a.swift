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

    /// Adds the bytes `from..<to` of a buffer eight at a time (the last part of a word as one
    /// word too, taken from the bytes before it when the run is shorter), then the run's length.
    /// Not FNV-1a of the bytes any more: for fingerprints that stay in one process.
    @inline(__always)
    public mutating func add(run base: UnsafePointer<UInt8>, from: Int, to: Int) {
        let raw = UnsafeRawPointer(base)
        var k = from
        while k + 8 <= to {
            value = (value ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: k, as: UInt64.self))) &* Self.prime
            k += 8
        }
        let rest = to - k
        if rest > 0 {
            if to >= 8 {
                // The eight bytes that end the run, shifted so that only the run's last `rest` remain.
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: to - 8, as: UInt64.self))
                value = (value ^ (word >> UInt64((8 - rest) * 8))) &* Self.prime
            } else {
                while k < to {
                    add(base[k])
                    k += 1
                }
            }
        }
        value = (value ^ UInt64(to - from)) &* Self.prime
    }
}
