import NIOCore

/// Length-encoded integers and strings (MySQL's `int<lenenc>` and `string<lenenc>`).
///
/// Reads are atomic: on nil the reader index has not moved. A length is checked against the bytes
/// present before anything is sliced, so a hostile length never allocates.
extension ByteBuffer {
    /// Marks SQL NULL in a text row where a length-encoded string would start.
    public static let mysqlNullMarker: UInt8 = 0xFB

    /// Reads an `int<lenenc>`. Nil when truncated or when the first byte is 0xFB (NULL) or 0xFF (invalid).
    public mutating func readLengthEncodedInteger() -> UInt64? {
        guard let (value, width) = getLengthEncodedInteger(at: readerIndex) else { return nil }
        moveReaderIndex(forwardBy: width)
        return value
    }

    /// The `int<lenenc>` at `index` and how many bytes it spans.
    public func getLengthEncodedInteger(at index: Int) -> (value: UInt64, width: Int)? {
        guard let first = getInteger(at: index, as: UInt8.self) else { return nil }
        switch first {
        case 0..<0xFB:
            return (UInt64(first), 1)
        case 0xFC:
            return getInteger(at: index + 1, endianness: .little, as: UInt16.self).map { (UInt64($0), 3) }
        case 0xFD:
            guard let low = getInteger(at: index + 1, endianness: .little, as: UInt16.self),
                  let high = getInteger(at: index + 3, as: UInt8.self) else { return nil }
            return (UInt64(low) | UInt64(high) << 16, 4)
        case 0xFE:
            return getInteger(at: index + 1, endianness: .little, as: UInt64.self).map { ($0, 9) }
        default:
            return nil
        }
    }

    public mutating func writeLengthEncodedInteger(_ value: UInt64) {
        switch value {
        case 0..<0xFB:
            writeInteger(UInt8(value))
        case 0xFB...0xFFFF:
            writeInteger(UInt8(0xFC))
            writeInteger(UInt16(value), endianness: .little)
        case 0x1_0000...0xFF_FFFF:
            writeInteger(UInt8(0xFD))
            writeInteger(UInt16(truncatingIfNeeded: value), endianness: .little)
            writeInteger(UInt8(truncatingIfNeeded: value >> 16))
        default:
            writeInteger(UInt8(0xFE))
            writeInteger(value, endianness: .little)
        }
    }

    /// Reads a `string<lenenc>` as a slice of this buffer. Nil when truncated or the length is invalid.
    public mutating func readLengthEncodedSlice() -> ByteBuffer? {
        guard let (length, width) = getLengthEncodedInteger(at: readerIndex),
              length <= UInt64(readableBytes - width) else { return nil }
        moveReaderIndex(forwardBy: width)
        return readSlice(length: Int(length))
    }

    /// Reads a `string<lenenc>` as UTF-8 text (invalid sequences are repaired, never fatal).
    public mutating func readLengthEncodedString() -> String? {
        readLengthEncodedSlice().map { String(buffer: $0) }
    }

    /// Reads a `string<lenenc>` as bytes.
    public mutating func readLengthEncodedBytes() -> [UInt8]? {
        readLengthEncodedSlice().map { Array($0.readableBytesView) }
    }

    public mutating func writeLengthEncodedString(_ string: String) {
        writeLengthEncodedInteger(UInt64(string.utf8.count))
        writeString(string)
    }

    public mutating func writeLengthEncodedBytes<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let array = Array(bytes)
        writeLengthEncodedInteger(UInt64(array.count))
        writeBytes(array)
    }

    public mutating func writeLengthEncodedBuffer(_ buffer: ByteBuffer) {
        writeLengthEncodedInteger(UInt64(buffer.readableBytes))
        writeImmutableBuffer(buffer)
    }
}
