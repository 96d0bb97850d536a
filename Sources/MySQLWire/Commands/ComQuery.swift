import NIOCore

/// COM_QUERY: run SQL text. The text is kept as bytes: queries may carry binary literals.
public struct ComQuery: MySQLMessage {
    public var sql: ByteBuffer

    public init(sql: ByteBuffer) {
        self.sql = sql
    }

    public init(sql: String) {
        self.sql = ByteBuffer(string: sql)
    }

    /// The SQL as text (invalid UTF-8 is repaired).
    public var sqlString: String { String(buffer: sql) }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        try payload.requireHeader(CommandCode.query.rawValue, "COM_QUERY")
        sql = payload.readSlice(length: payload.readableBytes)!
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeInteger(CommandCode.query.rawValue)
        buffer.writeImmutableBuffer(sql)
    }
}
