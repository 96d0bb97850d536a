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

    /// Whether the words behind a pin, LAST_INSERT_ID() or ROLLBACK occur anywhere (matched
    /// case-insensitively, inside longer words too, as in SQL_CALC_FOUND_ROWS); `@` and `;`
    /// trigger alone. A switch on the first letter keeps it to a few instructions a byte.
    static func mayMatter(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = bytes.count
        var i = 0
        while i < n {
            let b = bytes[i]
            switch b & 0xDF {
            case 0x40 where b == UInt8(ascii: "@"): return true
            case UInt8(ascii: ";") & 0xDF where b == UInt8(ascii: ";"): return true
            case UInt8(ascii: "L"): if spells(bytes, i, "LOCK") || spells(bytes, i, "LAST_INSERT_ID") { return true }
            case UInt8(ascii: "F"): if spells(bytes, i, "FOUND_ROWS") { return true }
            case UInt8(ascii: "P"): if spells(bytes, i, "PREPARE") { return true }
            case UInt8(ascii: "E"): if spells(bytes, i, "EXECUTE") { return true }
            case UInt8(ascii: "D"): if spells(bytes, i, "DEALLOCATE") { return true }
            case UInt8(ascii: "T"): if spells(bytes, i, "TEMPORARY") { return true }
            case UInt8(ascii: "H"): if spells(bytes, i, "HANDLER") { return true }
            case UInt8(ascii: "R"): if spells(bytes, i, "ROLLBACK") { return true }
            case UInt8(ascii: "I"): if spells(bytes, i, "INTO") { return true }
            default: break
            }
            i += 1
        }
        return false
    }

    /// Whether `word` (uppercase ASCII letters and `_`) starts at `i`, ignoring case.
    @inline(__always)
    private static func spells(_ bytes: UnsafeRawBufferPointer, _ i: Int, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard i + count <= bytes.count else { return false }
        let letters = word.utf8Start
        var k = 1
        while k < count {
            if bytes[i + k] & 0xDF != letters[k] { return false }
            k += 1
        }
        return true
    }
}
