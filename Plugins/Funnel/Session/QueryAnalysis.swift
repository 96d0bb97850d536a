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

    init(sql: ByteBuffer, multiStatementsAllowed: Bool, needsReadOnly: Bool) {
        // Most statements contain none of the words or characters behind a pin, LAST_INSERT_ID
        // or ROLLBACK: one pass over the bytes then spares the tokenizer. Comments are scanned
        // too, so a trigger inside one only costs the full classification.
        if !needsReadOnly, !sql.withUnsafeReadableBytes(Self.mayMatter) { return }
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

    /// The words behind a pin, LAST_INSERT_ID() or ROLLBACK (matched case-insensitively);
    /// `@` and `;` trigger alone.
    private static let words: [[UInt8]] = ["LOCK", "FOUND_ROWS", "LAST_INSERT_ID", "PREPARE", "EXECUTE", "DEALLOCATE",
                                           "TEMPORARY", "HANDLER", "ROLLBACK", "INTO"].map { Array($0.utf8) }

    static func mayMatter(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = bytes.count
        var i = 0
        while i < n {
            let b = bytes[i]
            if b == UInt8(ascii: "@") || b == UInt8(ascii: ";") { return true }
            let upper = b & 0xDF
            if upper == UInt8(ascii: "L") || upper == UInt8(ascii: "F") || upper == UInt8(ascii: "P") || upper == UInt8(ascii: "E")
                || upper == UInt8(ascii: "D") || upper == UInt8(ascii: "T") || upper == UInt8(ascii: "H")
                || upper == UInt8(ascii: "R") || upper == UInt8(ascii: "I") {
                for word in words where word[0] == upper && i + word.count <= n {
                    var k = 1
                    while k < word.count, bytes[i + k] & 0xDF == word[k] { k += 1 }
                    if k == word.count { return true }
                }
            }
            i += 1
        }
        return false
    }
}
