/// Why a statement ties the client session to its backend connection: after it, the session
/// holds state that only that server connection knows.
public struct SQLPinReasons: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// SET @x = ..., @x := ..., SELECT ... INTO @x
    public static let userVariableAssignment = SQLPinReasons(rawValue: 1 << 0)
    /// CREATE TEMPORARY TABLE
    public static let temporaryTable = SQLPinReasons(rawValue: 1 << 1)
    /// LOCK TABLES, FLUSH TABLES ... WITH READ LOCK
    public static let lockTables = SQLPinReasons(rawValue: 1 << 2)
    /// GET_LOCK(...)
    public static let getLock = SQLPinReasons(rawValue: 1 << 3)
    /// PREPARE, EXECUTE, DEALLOCATE PREPARE, DROP PREPARE
    public static let sqlPrepare = SQLPinReasons(rawValue: 1 << 4)
    /// SQL_CALC_FOUND_ROWS or FOUND_ROWS()
    public static let foundRows = SQLPinReasons(rawValue: 1 << 5)
    /// LAST_INSERT_ID(), with or without an argument
    public static let lastInsertID = SQLPinReasons(rawValue: 1 << 6)
    /// more than one statement separated by ;
    public static let multiStatement = SQLPinReasons(rawValue: 1 << 7)
    /// HANDLER ... OPEN
    public static let handler = SQLPinReasons(rawValue: 1 << 8)

    private static let names: [(SQLPinReasons, String)] = [
        (.userVariableAssignment, "userVariableAssignment"), (.temporaryTable, "temporaryTable"), (.lockTables, "lockTables"),
        (.getLock, "getLock"), (.sqlPrepare, "sqlPrepare"), (.foundRows, "foundRows"), (.lastInsertID, "lastInsertID"),
        (.multiStatement, "multiStatement"), (.handler, "handler"),
    ]

    public var description: String {
        "[" + Self.names.filter { contains($0.0) }.map(\.1).joined(separator: ", ") + "]"
    }
}
