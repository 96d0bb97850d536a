import NIOCore
import SQLText

/// What the funnel reads from a query's text: only what pins a client to its connection (state
/// the server does not report), and whether it is ROLLBACK. Never when to release: that comes
/// from the server's status flags.
enum QueryAnalysis {
    static func pins(_ sql: ByteBuffer, multiStatementsAllowed: Bool) -> [PinReason] {
        let info = sql.withUnsafeReadableBytes { SQLStatementInfo.classify($0) }
        var reasons: [PinReason] = []
        let r = info.pinReasons
        if r.contains(.userVariableAssignment) { reasons.append(.userVariables) }
        if r.contains(.temporaryTable) { reasons.append(.temporaryTable) }
        if r.contains(.lockTables) { reasons.append(.lockTables) }
        if r.contains(.getLock) { reasons.append(.namedLock) }
        if r.contains(.sqlPrepare) { reasons.append(.sqlPrepare) }
        if r.contains(.foundRows) { reasons.append(.foundRows) }
        if r.contains(.handler) { reasons.append(.cursor) }
        if r.contains(.multiStatement) && multiStatementsAllowed { reasons.append(.multiStatements) }
        return reasons
    }

    /// LAST_INSERT_ID() reads per-connection state: the funnel replays the client's last id
    /// on the connection first instead of pinning the client.
    static func readsLastInsertID(_ sql: ByteBuffer) -> Bool {
        sql.withUnsafeReadableBytes { SQLStatementInfo.classify($0) }.pinReasons.contains(.lastInsertID)
    }

    static func isRollback(_ sql: ByteBuffer) -> Bool {
        let info = sql.withUnsafeReadableBytes { SQLStatementInfo.classify($0) }
        return info.firstKeyword == "ROLLBACK" && info.statementCount <= 1
    }
}
