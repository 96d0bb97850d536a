/// What a proxy needs to know about a complete command response it forwarded without decoding.
public struct ResponseSummary: Hashable, Sendable {
    /// The status of the last OK/EOF; after an ERR, the last status known before it.
    public var statusFlags: ServerStatusFlags
    /// Set when the response ended in an ERR packet.
    public var error: ERRPacket?
    /// Summed over every OK of the response (multi-statements, stored procedures).
    public var affectedRows: UInt64
    /// From the last OK packet.
    public var lastInsertID: UInt64
    /// From the last OK/EOF packet.
    public var warnings: UInt16
    /// From the last OK packet.
    public var info: String
    /// Every session-state change reported by the response's OK packets, in order.
    public var sessionStateChanges: [SessionStateChange]
    /// The first packet of a successful COM_STMT_PREPARE response.
    public var preparedStatement: ComStmtPrepareOK?
    /// Rows forwarded, over all result sets.
    public var rowCount: UInt64
    /// Result sets (column metadata blocks) forwarded.
    public var resultSetCount: Int

    public init(
        statusFlags: ServerStatusFlags = [],
        error: ERRPacket? = nil,
        affectedRows: UInt64 = 0,
        lastInsertID: UInt64 = 0,
        warnings: UInt16 = 0,
        info: String = "",
        sessionStateChanges: [SessionStateChange] = [],
        preparedStatement: ComStmtPrepareOK? = nil,
        rowCount: UInt64 = 0,
        resultSetCount: Int = 0
    ) {
        self.statusFlags = statusFlags
        self.error = error
        self.affectedRows = affectedRows
        self.lastInsertID = lastInsertID
        self.warnings = warnings
        self.info = info
        self.sessionStateChanges = sessionStateChanges
        self.preparedStatement = preparedStatement
        self.rowCount = rowCount
        self.resultSetCount = resultSetCount
    }

    public var isError: Bool { error != nil }
    public var inTransaction: Bool { statusFlags.contains(.inTransaction) }
}
