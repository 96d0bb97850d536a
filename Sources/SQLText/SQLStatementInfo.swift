/// What a router needs to know about a statement before sending it: may it go to a read-only
/// replica, does it open or close a transaction, does it pin the session to its connection.
/// Every answer errs on the safe side: when unsure, not read-only.
public struct SQLStatementInfo: Equatable, Sendable {
    /// The first word of the first statement, uppercased ("" when it does not begin with a word).
    public var firstKeyword = ""
    /// A single SELECT, SHOW, DESCRIBE/DESC, EXPLAIN or WITH ... SELECT that neither writes, locks
    /// rows (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE), writes INTO anything, assigns a variable
    /// nor calls a function with side effects (GET_LOCK, sequences, LAST_INSERT_ID(expr)).
    public var isReadOnly = false
    /// Some statement is BEGIN [WORK], START TRANSACTION or XA START/BEGIN.
    public var startsTransaction = false
    /// Some statement is COMMIT, ROLLBACK (not ROLLBACK TO SAVEPOINT) or XA COMMIT/ROLLBACK.
    public var endsTransaction = false
    public var pinReasons: SQLPinReasons = []
    /// Reads or writes an @user_variable anywhere.
    public var usesUserVariables = false
    /// Non-empty statements separated by `;`.
    public var statementCount = 0

    public init() {}

    public static func classify(_ sql: UnsafeBufferPointer<UInt8>) -> SQLStatementInfo {
        var classifier = Classifier(bytes: sql)
        return classifier.run()
    }

    public static func classify(_ sql: UnsafeRawBufferPointer) -> SQLStatementInfo {
        classify(UnsafeBufferPointer(start: sql.baseAddress?.assumingMemoryBound(to: UInt8.self), count: sql.count))
    }

    public static func classify<Bytes: Sequence>(_ sql: Bytes) -> SQLStatementInfo where Bytes.Element == UInt8 {
        withContiguousBytes(sql) { classify($0) }
    }

    public static func classify(_ sql: String) -> SQLStatementInfo {
        classify(sql.utf8)
    }
}

/// The statement kinds the classifier tells apart by their first word.
private enum Verb {
    case select, show, describe, explain, with, set, create, lock, flush, handler, prepare, drop
    case begin, start, xa, commit, rollback, other

    init(_ bytes: UnsafeBufferPointer<UInt8>, _ t: SQLToken) {
        guard t.kind == .identifier else { self = .other; return }
        self = Self.table.first { bytes.spells(t, $0.0) }?.1 ?? .other
    }

    private static let table: [(StaticString, Verb)] = [
        ("SELECT", .select), ("SHOW", .show), ("DESCRIBE", .describe), ("DESC", .describe), ("EXPLAIN", .explain),
        ("WITH", .with), ("SET", .set), ("CREATE", .create), ("LOCK", .lock), ("FLUSH", .flush),
        ("HANDLER", .handler), ("PREPARE", .prepare), ("EXECUTE", .prepare), ("DEALLOCATE", .prepare),
        ("DROP", .drop), ("BEGIN", .begin), ("START", .start), ("XA", .xa), ("COMMIT", .commit),
        ("ROLLBACK", .rollback),
    ]
}

/// One pass over the significant tokens; per-statement state resets at each `;`.
private struct Classifier {
    let bytes: UnsafeBufferPointer<UInt8>
    var info = SQLStatementInfo()
    var everyStatementReadOnly = true
    var sawUnterminated = false

    // The current statement.
    var verb: Verb?
    var index = 0                 // of the current token in the statement
    var second: SQLToken?
    var prev: SQLToken?
    var prevPrev: SQLToken?
    var blocksReadOnly = false    // writes, locks rows, assigns, or has side effects
    var writeWord = false         // INSERT, UPDATE ... as a word, not a function (EXPLAIN/WITH)
    var pendingWriteWord = false  // a write word whose next token decides
    var rollbackToSavepoint = false

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func run() -> SQLStatementInfo {
        var tokens = SignificantTokens(bytes)
        while let t = tokens.next() { visit(t) }
        endStatement()
        if info.statementCount > 1 { info.pinReasons.insert(.multiStatement) }
        info.isReadOnly = info.statementCount == 1 && everyStatementReadOnly && !sawUnterminated
        return info
    }

    private mutating func visit(_ t: SQLToken) {
        if pendingWriteWord {
            writeWord = writeWord || t.kind != .leftParen
            pendingWriteWord = false
        }
        if t.kind == .semicolon {
            endStatement()
            return
        }
        if t.kind == .unterminated { sawUnterminated = true }
        if verb == nil {
            if t.kind == .leftParen { return }  // (SELECT ...) UNION (SELECT ...)
            verb = Verb(bytes, t)
            info.statementCount += 1
            if info.statementCount == 1 && t.kind == .identifier {
                info.firstKeyword = String(decoding: bytes[t.range].map(ASCII.upper), as: UTF8.self)
            }
        } else {
            index += 1
            if index == 1 { second = t }
        }
        inspect(t)
        prevPrev = prev
        prev = t
    }

    private func isWord(_ t: SQLToken?, _ word: StaticString) -> Bool {
        guard let t, t.kind == .identifier else { return false }
        return bytes.spells(t, word)
    }

    private mutating func inspect(_ t: SQLToken) {
        // LAST_INSERT_ID(expr) sets the value: a side effect. LAST_INSERT_ID() only reads it.
        if prev?.kind == .leftParen && isWord(prevPrev, "LAST_INSERT_ID") && t.kind != .rightParen {
            blocksReadOnly = true
        }
        switch t.kind {
        case .userVariable:
            info.usesUserVariables = true
            if isWord(prev, "INTO") { info.pinReasons.insert(.userVariableAssignment) }
        case .operator:
            if bytes.spells(t, ":=") {
                info.pinReasons.insert(.userVariableAssignment)
                blocksReadOnly = true
            } else if verb == .set && prev?.kind == .userVariable && bytes.spells(t, "=") {
                info.pinReasons.insert(.userVariableAssignment)
            }
        case .leftParen:
            if let p = prev, p.kind == .identifier { functionCall(p) }
        case .identifier:
            word(t)
        default:
            break
        }
    }

    private mutating func functionCall(_ name: SQLToken) {
        if bytes.spells(name, "GET_LOCK") {
            info.pinReasons.insert(.getLock)
            blocksReadOnly = true
        } else if bytes.spells(name, "FOUND_ROWS") {
            info.pinReasons.insert(.foundRows)
        } else if bytes.spells(name, "LAST_INSERT_ID") {
            info.pinReasons.insert(.lastInsertID)
        } else if Self.sideEffectFunctions.contains(where: { bytes.spells(name, $0) }) {
            blocksReadOnly = true
        }
    }

    private static let sideEffectFunctions: [StaticString] = [
        "RELEASE_LOCK", "RELEASE_ALL_LOCKS", "IS_USED_LOCK", "IS_FREE_LOCK", "NEXTVAL", "SETVAL", "LASTVAL",
    ]

    /// Words that make EXPLAIN or WITH a write (or, for ANALYZE, an execution), unless called as a function.
    private static let writeWords: [StaticString] = [
        "INSERT", "UPDATE", "DELETE", "REPLACE", "CALL", "ANALYZE", "LOAD", "CREATE", "ALTER", "DROP", "TRUNCATE",
    ]

    private mutating func word(_ t: SQLToken) {
        if (bytes.spells(t, "UPDATE") || bytes.spells(t, "SHARE")) && isWord(prev, "FOR") {
            blocksReadOnly = true  // FOR UPDATE, FOR SHARE
        } else if bytes.spells(t, "LOCK") {
            blocksReadOnly = true  // LOCK IN SHARE MODE, and LOCK TABLES
            if verb == .flush && isWord(prev, "READ") { info.pinReasons.insert(.lockTables) }
        } else if bytes.spells(t, "INTO") {
            blocksReadOnly = true
        } else if bytes.spells(t, "VALUE") && (isWord(prev, "NEXT") || isWord(prev, "PREVIOUS")) {
            blocksReadOnly = true  // NEXT VALUE FOR sequence
        } else if bytes.spells(t, "SQL_CALC_FOUND_ROWS") {
            info.pinReasons.insert(.foundRows)
        } else if verb == .create && (index == 1 || index == 3) && bytes.spells(t, "TEMPORARY") {
            info.pinReasons.insert(.temporaryTable)  // CREATE [OR REPLACE] TEMPORARY TABLE
        } else if verb == .handler && bytes.spells(t, "OPEN") {
            info.pinReasons.insert(.handler)
        } else if verb == .rollback && bytes.spells(t, "TO") {
            rollbackToSavepoint = true
        }
        if Self.writeWords.contains(where: { bytes.spells(t, $0) }) { pendingWriteWord = true }
    }

    private mutating func endStatement() {
        defer { resetStatement() }
        guard let verb else { return }
        writeWord = writeWord || pendingWriteWord
        switch verb {
        case .begin:
            if index == 0 || (index == 1 && isWord(second, "WORK")) { info.startsTransaction = true }
        case .start:
            if isWord(second, "TRANSACTION") { info.startsTransaction = true }
        case .xa:
            if isWord(second, "START") || isWord(second, "BEGIN") { info.startsTransaction = true }
            if isWord(second, "COMMIT") || isWord(second, "ROLLBACK") { info.endsTransaction = true }
        case .commit:
            info.endsTransaction = true
        case .rollback:
            if !rollbackToSavepoint { info.endsTransaction = true }
        case .prepare:
            info.pinReasons.insert(.sqlPrepare)
        case .drop:
            if isWord(second, "PREPARE") { info.pinReasons.insert(.sqlPrepare) }
        case .lock:
            if isWord(second, "TABLE") || isWord(second, "TABLES") { info.pinReasons.insert(.lockTables) }
        default:
            break
        }
        let readOnly: Bool
        switch verb {
        case .select, .show: readOnly = !blocksReadOnly
        case .describe, .explain, .with: readOnly = !blocksReadOnly && !writeWord
        default: readOnly = false
        }
        everyStatementReadOnly = everyStatementReadOnly && readOnly
    }

    private mutating func resetStatement() {
        verb = nil
        index = 0
        second = nil
        prev = nil
        prevPrev = nil
        blocksReadOnly = false
        writeWord = false
        pendingWriteWord = false
        rollbackToSavepoint = false
    }
}
