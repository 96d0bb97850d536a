/// What a proxy needs to know about a complete command response it forwarded without decoding.
///
/// A summary is copied several times on every statement (out of the state machine, into the
/// session), so what most responses lack (an error, info text, session-state changes, a prepared
/// statement) lives in a box, copied on write: a plain result copies in a few instructions.
public struct ResponseSummary: Hashable, Sendable {
    /// The status of the last OK/EOF; after an ERR, the last status known before it.
    public var statusFlags: ServerStatusFlags
    /// Summed over every OK of the response (multi-statements, stored procedures).
    public var affectedRows: UInt64
    /// From the last OK packet.
    public var lastInsertID: UInt64
    /// From the last OK/EOF packet.
    public var warnings: UInt16
    /// Rows forwarded, over all result sets.
    public var rowCount: UInt64
    /// Result sets (column metadata blocks) forwarded.
    public var resultSetCount: Int
    private var rare: Rare?

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
        self.affectedRows = affectedRows
        self.lastInsertID = lastInsertID
        self.warnings = warnings
        self.rowCount = rowCount
        self.resultSetCount = resultSetCount
        self.error = error
        self.info = info
        self.sessionStateChanges = sessionStateChanges
        self.preparedStatement = preparedStatement
    }

    /// Set when the response ended in an ERR packet.
    public var error: ERRPacket? {
        get { rare?.error }
        set { if newValue != nil || rare != nil { unique().error = newValue } }
    }

    /// From the last OK packet.
    public var info: String {
        get { rare?.info ?? "" }
        set { if !newValue.isEmpty || rare != nil { unique().info = newValue } }
    }

    /// Every session-state change reported by the response's OK packets, in order.
    public var sessionStateChanges: [SessionStateChange] {
        get { rare?.sessionStateChanges ?? [] }
        set { if !newValue.isEmpty || rare != nil { unique().sessionStateChanges = newValue } }
    }

    /// The first packet of a successful COM_STMT_PREPARE response.
    public var preparedStatement: ComStmtPrepareOK? {
        get { rare?.preparedStatement }
        set { if newValue != nil || rare != nil { unique().preparedStatement = newValue } }
    }

    public var isError: Bool { rare?.error != nil }
    public var inTransaction: Bool { statusFlags.contains(.inTransaction) }

    public static func == (a: ResponseSummary, b: ResponseSummary) -> Bool {
        a.statusFlags == b.statusFlags && a.affectedRows == b.affectedRows && a.lastInsertID == b.lastInsertID
            && a.warnings == b.warnings && a.rowCount == b.rowCount && a.resultSetCount == b.resultSetCount
            && a.error == b.error && a.info == b.info && a.sessionStateChanges == b.sessionStateChanges
            && a.preparedStatement == b.preparedStatement
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(statusFlags)
        hasher.combine(affectedRows)
        hasher.combine(lastInsertID)
        hasher.combine(warnings)
        hasher.combine(rowCount)
        hasher.combine(resultSetCount)
        hasher.combine(error)
        hasher.combine(info)
        hasher.combine(sessionStateChanges)
        hasher.combine(preparedStatement)
    }

    /// The box, made or copied so that this summary alone holds it.
    private mutating func unique() -> Rare {
        if rare == nil {
            rare = Rare()
        } else if !isKnownUniquelyReferenced(&rare) {
            rare = Rare(rare!)
        }
        return rare!
    }

    /// Never changed while shared (see `unique`), hence Sendable.
    private final class Rare: @unchecked Sendable {
        var error: ERRPacket?
        var info = ""
        var sessionStateChanges: [SessionStateChange] = []
        var preparedStatement: ComStmtPrepareOK?

        init() {}

        init(_ other: Rare) {
            error = other.error
            info = other.info
            sessionStateChanges = other.sessionStateChanges
            preparedStatement = other.preparedStatement
        }
    }
}
