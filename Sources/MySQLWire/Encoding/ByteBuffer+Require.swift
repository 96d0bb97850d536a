import NIOCore

/// Throwing reads for message decoders: a missing field becomes `MySQLWireError.malformedPacket`
/// naming the field, so decoders read as a list of fields.
extension ByteBuffer {
    mutating func require<T: FixedWidthInteger>(_ field: StaticString, as type: T.Type = T.self) throws -> T {
        guard let value = readInteger(endianness: .little, as: T.self) else { throw malformed(field) }
        return value
    }

    mutating func requireHeader(_ expected: UInt8, _ message: StaticString) throws {
        let header: UInt8 = try require(message)
        guard header == expected else {
            throw MySQLWireError.malformedPacket("\(message): header 0x\(String(header, radix: 16))")
        }
    }

    mutating func requireLengthEncodedInteger(_ field: StaticString) throws -> UInt64 {
        guard let value = readLengthEncodedInteger() else { throw malformed(field) }
        return value
    }

    mutating func requireLengthEncodedSlice(_ field: StaticString) throws -> ByteBuffer {
        guard let value = readLengthEncodedSlice() else { throw malformed(field) }
        return value
    }

    mutating func requireLengthEncodedString(_ field: StaticString) throws -> String {
        String(buffer: try requireLengthEncodedSlice(field))
    }

    mutating func requireNullTerminatedString(_ field: StaticString) throws -> String {
        guard let value = readNullTerminatedString() else { throw malformed(field) }
        return value
    }

    mutating func requireBytes(_ field: StaticString, length: Int) throws -> [UInt8] {
        guard let value = readBytes(length: length) else { throw malformed(field) }
        return value
    }

    mutating func requireSlice(_ field: StaticString, length: Int) throws -> ByteBuffer {
        guard let value = readSlice(length: length) else { throw malformed(field) }
        return value
    }

    /// Reads what is left (`string<EOF>`) as bytes.
    mutating func readRemainingBytes() -> [UInt8] {
        readBytes(length: readableBytes)!
    }

    private func malformed(_ field: StaticString) -> MySQLWireError {
        .malformedPacket("truncated or invalid \(field)")
    }
}
