import NIOCore

/// A row of a text-protocol result set: one length-encoded string per column, 0xFB for NULL.
public struct TextRow: Hashable, Sendable {
    /// Slices of the row's payload; nil is SQL NULL.
    public var values: [ByteBuffer?]

    public init(values: [ByteBuffer?]) {
        self.values = values
    }

    public init(from payload: inout ByteBuffer, columnCount: Int) throws {
        values = []
        values.reserveCapacity(min(columnCount, payload.readableBytes))
        for _ in 0..<max(columnCount, 0) {
            if payload.getInteger(at: payload.readerIndex, as: UInt8.self) == ByteBuffer.mysqlNullMarker {
                payload.moveReaderIndex(forwardBy: 1)
                values.append(nil)
            } else {
                values.append(try payload.requireLengthEncodedSlice("text row value"))
            }
        }
    }

    public func write(into buffer: inout ByteBuffer) {
        for value in values {
            if let value {
                buffer.writeLengthEncodedBuffer(value)
            } else {
                buffer.writeInteger(ByteBuffer.mysqlNullMarker)
            }
        }
    }
}
