/// The server status word carried by OK and EOF packets.
public struct ServerStatusFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let inTransaction = ServerStatusFlags(rawValue: 1 << 0)
    public static let autocommit = ServerStatusFlags(rawValue: 1 << 1)
    public static let moreResultsExist = ServerStatusFlags(rawValue: 1 << 3)
    public static let noGoodIndexUsed = ServerStatusFlags(rawValue: 1 << 4)
    public static let noIndexUsed = ServerStatusFlags(rawValue: 1 << 5)
    public static let cursorExists = ServerStatusFlags(rawValue: 1 << 6)
    public static let lastRowSent = ServerStatusFlags(rawValue: 1 << 7)
    public static let databaseDropped = ServerStatusFlags(rawValue: 1 << 8)
    public static let noBackslashEscapes = ServerStatusFlags(rawValue: 1 << 9)
    public static let metadataChanged = ServerStatusFlags(rawValue: 1 << 10)
    public static let queryWasSlow = ServerStatusFlags(rawValue: 1 << 11)
    public static let psOutParams = ServerStatusFlags(rawValue: 1 << 12)
    public static let inTransactionReadOnly = ServerStatusFlags(rawValue: 1 << 13)
    public static let sessionStateChanged = ServerStatusFlags(rawValue: 1 << 14)
    /// MariaDB: sql_mode contains ANSI_QUOTES.
    public static let ansiQuotes = ServerStatusFlags(rawValue: 1 << 15)
}
