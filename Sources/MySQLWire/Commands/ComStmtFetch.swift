import NIOCore

/// COM_STMT_FETCH: read rows from a cursor opened by COM_STMT_EXECUTE.
public struct ComStmtFetch: MySQLMessage {
    public var statementID: UInt32
    public var rowCount: UInt32

    public init(statementID: UInt32, rowCount: UInt32) {
        self.statementID = statementID
        self.rowCount = rowCount
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        statementID = try payload.readStatementCommand(.stmtFetch, "COM_STMT_FETCH")
        rowCount = try payload.require("row count")
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeStatementCommand(.stmtFetch, statementID: statementID)
        buffer.writeInteger(rowCount, endianness: .little)
    }
}
