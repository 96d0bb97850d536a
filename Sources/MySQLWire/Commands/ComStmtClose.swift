import NIOCore

/// COM_STMT_CLOSE: deallocate a prepared statement. The server sends no reply.
public struct ComStmtClose: MySQLMessage {
    public var statementID: UInt32

    public init(statementID: UInt32) {
        self.statementID = statementID
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        statementID = try payload.readStatementCommand(.stmtClose, "COM_STMT_CLOSE")
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeStatementCommand(.stmtClose, statementID: statementID)
    }
}
