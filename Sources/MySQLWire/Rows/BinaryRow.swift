import NIOCore

/// A row of a binary-protocol result set (prepared statements): 0x00, a NULL bitmap with an offset
/// of 2 bits, then each non-NULL value in its type's wire form.
public struct BinaryRow: Hashable, Sendable {
    public static let header: UInt8 = 0x00
    /// The first two bits of a row's NULL bitmap are unused.
    static let nullBitmapOffset = 2

    public var values: [MySQLBinaryValue]

    public init(values: [MySQLBinaryValue]) {
        self.values = values
    }

    /// Decodes a row of the result set described by `columns` (their type and UNSIGNED flag matter).
    public init(from payload: inout ByteBuffer, columns: [ColumnDefinition41]) throws {
        try payload.requireHeader(Self.header, "binary row")
        let bitmap = try payload.requireBytes("NULL bitmap", length: NullBitmap.length(count: columns.count, offset: Self.nullBitmapOffset))
        values = []
        values.reserveCapacity(columns.count)
        for (index, column) in columns.enumerated() {
            if NullBitmap.isSet(bitmap, index: index, offset: Self.nullBitmapOffset) {
                values.append(.null)
            } else {
                values.append(try MySQLBinaryValue(from: &payload, type: column.type, isUnsigned: column.flags.contains(.unsigned)))
            }
        }
    }

    /// Encodes the row for `columns`; each value is written in its column's type.
    public func write(into buffer: inout ByteBuffer, columns: [ColumnDefinition41]) {
        buffer.writeInteger(Self.header)
        buffer.writeBytes(NullBitmap.make(values.map { $0 == .null }, offset: Self.nullBitmapOffset))
        for (value, column) in zip(values, columns) {
            value.write(into: &buffer, type: column.type)
        }
    }
}

/// The NULL bitmaps of binary rows (offset 2) and COM_STMT_EXECUTE parameters (offset 0).
enum NullBitmap {
    static func length(count: Int, offset: Int) -> Int {
        (count + offset + 7) / 8
    }

    static func isSet(_ bitmap: [UInt8], index: Int, offset: Int) -> Bool {
        let bit = index + offset
        return bitmap[bit / 8] & (1 << (bit % 8)) != 0
    }

    static func make(_ isNull: [Bool], offset: Int) -> [UInt8] {
        var bitmap = [UInt8](repeating: 0, count: length(count: isNull.count, offset: offset))
        for (index, null) in isNull.enumerated() where null {
            let bit = index + offset
            bitmap[bit / 8] |= 1 << (bit % 8)
        }
        return bitmap
    }
}
