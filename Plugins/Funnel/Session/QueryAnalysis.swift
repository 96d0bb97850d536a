import NIOCore
import SQLText

/// What the funnel reads from a query's text, in one pass of the tokenizer: only what pins a
/// client to its connection (state the server does not report), whether the query reads
/// LAST_INSERT_ID(), and whether it is ROLLBACK. Never when to release a connection: that
/// comes from the server's status flags.
struct QueryAnalysis {
    var pins: [PinReason] = []
    var readsLastInsertID = false
    var isRollback = false
    /// Only reads (conservative: false when unsure), for read/write splitting.
    var isReadOnly = false

    init(sql: ByteBuffer, multiStatementsAllowed: Bool) {
        let info = sql.withUnsafeReadableBytes { SQLStatementInfo.classify($0) }
        let r = info.pinReasons
        if r.contains(.userVariableAssignment) { pins.append(.userVariables) }
        if r.contains(.temporaryTable) { pins.append(.temporaryTable) }
        if r.contains(.lockTables) { pins.append(.lockTables) }
        if r.contains(.getLock) { pins.append(.namedLock) }
        if r.contains(.sqlPrepare) { pins.append(.sqlPrepare) }
        if r.contains(.foundRows) { pins.append(.foundRows) }
        if r.contains(.handler) { pins.append(.cursor) }
        if r.contains(.multiStatement) && multiStatementsAllowed { pins.append(.multiStatements) }
        readsLastInsertID = r.contains(.lastInsertID)
        isRollback = info.firstKeyword == "ROLLBACK" && info.statementCount <= 1
        isReadOnly = info.isReadOnly
    }
}
