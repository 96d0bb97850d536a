import NIOCore

/// COM_STMT_RESET: discard long data sent for a statement and close its cursor.
public struct ComStmtReset: MySQLMessage {
    public var statementID: UInt32

    public init(statementID: UInt32) {
        self.statementID = statementID
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        statementID = try payload.readStatementCommand(.stmtReset, "COM_STMT_RESET")
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeStatementCommand(.stmtReset, statementID: statementID)
    }
}
