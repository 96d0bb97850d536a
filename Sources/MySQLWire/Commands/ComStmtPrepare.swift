import NIOCore

/// COM_STMT_PREPARE: prepare SQL text with `?` placeholders.
public struct ComStmtPrepare: MySQLMessage {
    public var sql: ByteBuffer

    public init(sql: ByteBuffer) {
        self.sql = sql
    }

    public init(sql: String) {
        self.sql = ByteBuffer(string: sql)
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        try payload.requireHeader(CommandCode.stmtPrepare.rawValue, "COM_STMT_PREPARE")
        sql = payload.readSlice(length: payload.readableBytes)!
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeInteger(CommandCode.stmtPrepare.rawValue)
        buffer.writeImmutableBuffer(sql)
    }
}
