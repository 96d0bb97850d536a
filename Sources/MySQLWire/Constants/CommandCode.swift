/// The first byte of a command packet. A struct rather than an enum so unknown codes stay representable.
public struct CommandCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let sleep = CommandCode(rawValue: 0x00)
    public static let quit = CommandCode(rawValue: 0x01)
    public static let initDB = CommandCode(rawValue: 0x02)
    public static let query = CommandCode(rawValue: 0x03)
    public static let fieldList = CommandCode(rawValue: 0x04)
    public static let createDB = CommandCode(rawValue: 0x05)
    public static let dropDB = CommandCode(rawValue: 0x06)
    public static let refresh = CommandCode(rawValue: 0x07)
    public static let shutdown = CommandCode(rawValue: 0x08)
    public static let statistics = CommandCode(rawValue: 0x09)
    public static let processInfo = CommandCode(rawValue: 0x0A)
    public static let connect = CommandCode(rawValue: 0x0B)
    public static let processKill = CommandCode(rawValue: 0x0C)
    public static let debug = CommandCode(rawValue: 0x0D)
    public static let ping = CommandCode(rawValue: 0x0E)
    public static let time = CommandCode(rawValue: 0x0F)
    public static let delayedInsert = CommandCode(rawValue: 0x10)
    public static let changeUser = CommandCode(rawValue: 0x11)
    public static let binlogDump = CommandCode(rawValue: 0x12)
    public static let tableDump = CommandCode(rawValue: 0x13)
    public static let connectOut = CommandCode(rawValue: 0x14)
    public static let registerSlave = CommandCode(rawValue: 0x15)
    public static let stmtPrepare = CommandCode(rawValue: 0x16)
    public static let stmtExecute = CommandCode(rawValue: 0x17)
    public static let stmtSendLongData = CommandCode(rawValue: 0x18)
    public static let stmtClose = CommandCode(rawValue: 0x19)
    public static let stmtReset = CommandCode(rawValue: 0x1A)
    public static let setOption = CommandCode(rawValue: 0x1B)
    public static let stmtFetch = CommandCode(rawValue: 0x1C)
    public static let daemon = CommandCode(rawValue: 0x1D)
    public static let binlogDumpGTID = CommandCode(rawValue: 0x1E)
    public static let resetConnection = CommandCode(rawValue: 0x1F)
    public static let clone = CommandCode(rawValue: 0x20)
    /// MariaDB: array binding for prepared statements.
    public static let stmtBulkExecute = CommandCode(rawValue: 0xFA)
    /// MariaDB (10.2 only, since removed): several commands in one packet.
    public static let multi = CommandCode(rawValue: 0xFE)

    public var description: String { "COM(0x\(String(rawValue, radix: 16)))" }
}
