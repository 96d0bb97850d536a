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

/// The words the classifier looks for, found once per identifier.
private enum Word {
    // first words of statements
    case select, show, describe, explain, with, set, create, lock, flush, handler, prepare, execute, deallocate, drop
    case begin, start, xa, commit, rollback
    // words inside statements
    case into, `for`, update, share, value, next, previous, sqlCalcFoundRows, temporary, open, to, read, work
    case transaction, table, tables, insert, delete, replace, call, analyze, load, alter, truncate
    // functions
    case getLock, foundRows, lastInsertID, releaseLock, releaseAllLocks, isUsedLock, isFreeLock, nextval, setval, lastval

    static let known = WordTable<Word>([
        ("SELECT", .select), ("SHOW", .show), ("DESCRIBE", .describe), ("DESC", .describe), ("EXPLAIN", .explain),
        ("WITH", .with), ("SET", .set), ("CREATE", .create), ("LOCK", .lock), ("FLUSH", .flush), ("HANDLER", .handler),
        ("PREPARE", .prepare), ("EXECUTE", .execute), ("DEALLOCATE", .deallocate), ("DROP", .drop), ("BEGIN", .begin),
        ("START", .start), ("XA", .xa), ("COMMIT", .commit), ("ROLLBACK", .rollback),
        ("INTO", .into), ("FOR", .for), ("UPDATE", .update), ("SHARE", .share), ("VALUE", .value), ("NEXT", .next),
        ("PREVIOUS", .previous), ("SQL_CALC_FOUND_ROWS", .sqlCalcFoundRows), ("TEMPORARY", .temporary), ("OPEN", .open),
        ("TO", .to), ("READ", .read), ("WORK", .work), ("TRANSACTION", .transaction), ("TABLE", .table), ("TABLES", .tables),
        ("INSERT", .insert), ("DELETE", .delete), ("REPLACE", .replace), ("CALL", .call), ("ANALYZE", .analyze),
        ("LOAD", .load), ("ALTER", .alter), ("TRUNCATE", .truncate),
        ("GET_LOCK", .getLock), ("FOUND_ROWS", .foundRows), ("LAST_INSERT_ID", .lastInsertID), ("RELEASE_LOCK", .releaseLock),
        ("RELEASE_ALL_LOCKS", .releaseAllLocks), ("IS_USED_LOCK", .isUsedLock), ("IS_FREE_LOCK", .isFreeLock),
        ("NEXTVAL", .nextval), ("SETVAL", .setval), ("LASTVAL", .lastval),
    ])

    /// Functions that change server state: a statement calling one is not read-only.
    var hasSideEffects: Bool {
        switch self {
        case .getLock, .releaseLock, .releaseAllLocks, .isUsedLock, .isFreeLock, .nextval, .setval, .lastval: return true
        default: return false
        }
    }

    /// Words that make EXPLAIN or WITH a write (or, for ANALYZE, an execution), unless called as a function.
    var writes: Bool {
        switch self {
        case .insert, .update, .delete, .replace, .call, .analyze, .load, .create, .alter, .drop, .truncate: return true
        default: return false
        }
    }
}

/// A significant token and the word it spells, if it is one the classifier knows.
private struct Seen {
    var token: SQLToken
    var word: Word?
}

/// One pass over the significant tokens; per-statement state resets at each `;`.
private struct Classifier {
    let bytes: UnsafeBufferPointer<UInt8>
    var info = SQLStatementInfo()
    var everyStatementReadOnly = true
    var sawUnterminated = false

    // The current statement.
    var started = false
    var verb: Word?               // its first word, when the classifier knows it
    var index = 0                 // of the current token in the statement
    var second: Word?
    var prev: Seen?
    var prevPrev: Seen?
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
        let seen = Seen(token: t, word: t.kind == .identifier ? Word.known.lookup(bytes, t) : nil)
        if !started {
            if t.kind == .leftParen { return }  // (SELECT ...) UNION (SELECT ...)
            started = true
            verb = seen.word
            info.statementCount += 1
            if info.statementCount == 1 && t.kind == .identifier {
                info.firstKeyword = String(decoding: bytes[t.range].map(ASCII.upper), as: UTF8.self)
            }
        } else {
            index += 1
            if index == 1 { second = seen.word }
        }
        inspect(seen)
        prevPrev = prev
        prev = seen
    }

    private mutating func inspect(_ seen: Seen) {
        let t = seen.token
        // LAST_INSERT_ID(expr) sets the value: a side effect. LAST_INSERT_ID() only reads it.
        if prev?.token.kind == .leftParen && prevPrev?.word == .lastInsertID && t.kind != .rightParen {
            blocksReadOnly = true
        }
        switch t.kind {
        case .userVariable:
            info.usesUserVariables = true
            if prev?.word == .into { info.pinReasons.insert(.userVariableAssignment) }
        case .operator:
            if bytes.spells(t, ":=") {
                info.pinReasons.insert(.userVariableAssignment)
                blocksReadOnly = true
            } else if verb == .set && prev?.token.kind == .userVariable && bytes.spells(t, "=") {
                info.pinReasons.insert(.userVariableAssignment)
            }
        case .leftParen:
            if let function = prev?.word { functionCall(function) }
        case .identifier:
            if let word = seen.word { self.word(word) }
        default:
            break
        }
    }

    private mutating func functionCall(_ function: Word) {
        switch function {
        case .getLock: info.pinReasons.insert(.getLock)
        case .foundRows: info.pinReasons.insert(.foundRows)
        case .lastInsertID: info.pinReasons.insert(.lastInsertID)
        default: break
        }
        if function.hasSideEffects { blocksReadOnly = true }
    }

    private mutating func word(_ word: Word) {
        switch word {
        case .update where prev?.word == .for, .share where prev?.word == .for:
            blocksReadOnly = true  // FOR UPDATE, FOR SHARE
        case .lock:
            blocksReadOnly = true  // LOCK IN SHARE MODE, and LOCK TABLES
            if verb == .flush && prev?.word == .read { info.pinReasons.insert(.lockTables) }
        case .into:
            blocksReadOnly = true
        case .value where prev?.word == .next || prev?.word == .previous:
            blocksReadOnly = true  // NEXT VALUE FOR sequence
        case .sqlCalcFoundRows:
            info.pinReasons.insert(.foundRows)
        case .temporary where verb == .create && (index == 1 || index == 3):
            info.pinReasons.insert(.temporaryTable)  // CREATE [OR REPLACE] TEMPORARY TABLE
        case .open where verb == .handler:
            info.pinReasons.insert(.handler)
        case .to where verb == .rollback:
            rollbackToSavepoint = true
        default:
            break
        }
        if word.writes { pendingWriteWord = true }
    }

    private mutating func endStatement() {
        defer { resetStatement() }
        guard started else { return }
        writeWord = writeWord || pendingWriteWord
        switch verb {
        case .begin:
            if index == 0 || (index == 1 && second == .work) { info.startsTransaction = true }
        case .start:
            if second == .transaction { info.startsTransaction = true }
        case .xa:
            if second == .start || second == .begin { info.startsTransaction = true }
            if second == .commit || second == .rollback { info.endsTransaction = true }
        case .commit:
            info.endsTransaction = true
        case .rollback:
            if !rollbackToSavepoint { info.endsTransaction = true }
        case .prepare, .execute, .deallocate:
            info.pinReasons.insert(.sqlPrepare)
        case .drop:
            if second == .prepare { info.pinReasons.insert(.sqlPrepare) }
        case .lock:
            if second == .table || second == .tables { info.pinReasons.insert(.lockTables) }
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
        started = false
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
