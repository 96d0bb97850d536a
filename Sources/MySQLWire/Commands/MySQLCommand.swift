import NIOCore

/// A command packet, recognised from its first byte. Commands without a message type of their own
/// (COM_PROCESS_KILL, COM_BINLOG_DUMP, ...) come out as `.other` with their undecoded payload.
public enum MySQLCommand: Hashable, Sendable {
    case quit
    case initDB(ComInitDB)
    case query(ComQuery)
    case fieldList(ComFieldList)
    case statistics
    case ping
    case changeUser(ComChangeUser)
    case resetConnection
    case setOption(ComSetOption)
    case stmtPrepare(ComStmtPrepare)
    /// Only the header: decoding the parameters needs the statement's parameter count
    /// (`ComStmtExecute.init(from:parameterCount:previousTypes:)`).
    case stmtExecute(ComStmtExecute.Header)
    case stmtSendLongData(ComStmtSendLongData)
    case stmtClose(ComStmtClose)
    case stmtReset(ComStmtReset)
    case stmtFetch(ComStmtFetch)
    /// Any other command; the payload still starts with the command byte.
    case other(CommandCode, ByteBuffer)

    /// Decodes a command's logical payload; `capabilities` matter only for COM_CHANGE_USER.
    public init(from payload: inout ByteBuffer, capabilities: CapabilityFlags) throws {
        guard let byte = payload.getInteger(at: payload.readerIndex, as: UInt8.self) else {
            throw MySQLWireError.malformedPacket("empty command packet")
        }
        switch CommandCode(rawValue: byte) {
        case .quit: self = .quit
        case .initDB: self = .initDB(try ComInitDB(from: &payload))
        case .query: self = .query(try ComQuery(from: &payload))
        case .fieldList: self = .fieldList(try ComFieldList(from: &payload))
        case .statistics: self = .statistics
        case .ping: self = .ping
        case .changeUser: self = .changeUser(try ComChangeUser(from: &payload, capabilities: capabilities))
        case .resetConnection: self = .resetConnection
        case .setOption: self = .setOption(try ComSetOption(from: &payload))
        case .stmtPrepare: self = .stmtPrepare(try ComStmtPrepare(from: &payload))
        case .stmtExecute: self = .stmtExecute(try ComStmtExecute.Header(from: &payload))
        case .stmtSendLongData: self = .stmtSendLongData(try ComStmtSendLongData(from: &payload))
        case .stmtClose: self = .stmtClose(try ComStmtClose(from: &payload))
        case .stmtReset: self = .stmtReset(try ComStmtReset(from: &payload))
        case .stmtFetch: self = .stmtFetch(try ComStmtFetch(from: &payload))
        case let code: self = .other(code, payload.readSlice(length: payload.readableBytes)!)
        }
    }

    public var code: CommandCode {
        switch self {
        case .quit: return .quit
        case .initDB: return .initDB
        case .query: return .query
        case .fieldList: return .fieldList
        case .statistics: return .statistics
        case .ping: return .ping
        case .changeUser: return .changeUser
        case .resetConnection: return .resetConnection
        case .setOption: return .setOption
        case .stmtPrepare: return .stmtPrepare
        case .stmtExecute: return .stmtExecute
        case .stmtSendLongData: return .stmtSendLongData
        case .stmtClose: return .stmtClose
        case .stmtReset: return .stmtReset
        case .stmtFetch: return .stmtFetch
        case .other(let code, _): return code
        }
    }
}
