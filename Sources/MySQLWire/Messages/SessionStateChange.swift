import NIOCore

/// One entry of an OK packet's session-state information (CLIENT_SESSION_TRACK).
public enum SessionStateChange: Hashable, Sendable {
    case systemVariable(name: String, value: String)
    case schema(String)
    /// Some tracked state changed (the server sends "1").
    case stateChange(Bool)
    /// The GTIDs of the transaction, with the server's encoding specification byte.
    case gtids(encoding: UInt8, String)
    case transactionCharacteristics(String)
    /// Eight characters describing the transaction state (e.g. "T_______").
    case transactionState(String)
    case unknown(type: UInt8, data: ByteBuffer)

    enum TypeCode: UInt8 {
        case systemVariables = 0, schema, stateChange, gtids, transactionCharacteristics, transactionState
    }

    /// Reads the entries of a session-state block (the lenenc string after an OK packet's info).
    static func readAll(from block: inout ByteBuffer) throws -> [SessionStateChange] {
        var changes: [SessionStateChange] = []
        while block.readableBytes > 0 {
            let type: UInt8 = try block.require("session state type")
            var data = try block.requireLengthEncodedSlice("session state data")
            changes.append(try SessionStateChange(type: type, data: &data))
        }
        return changes
    }

    private init(type: UInt8, data: inout ByteBuffer) throws {
        switch TypeCode(rawValue: type) {
        case .systemVariables:
            self = .systemVariable(
                name: try data.requireLengthEncodedString("system variable name"),
                value: try data.requireLengthEncodedString("system variable value")
            )
        case .schema:
            self = .schema(try data.requireLengthEncodedString("schema"))
        case .stateChange:
            // MySQL nests a length-encoded "1"; MariaDB sends the bare character.
            if data.readableBytes == 1 {
                self = .stateChange(data.readInteger(as: UInt8.self) == UInt8(ascii: "1"))
            } else {
                self = .stateChange(try data.requireLengthEncodedString("state change") == "1")
            }
        case .gtids:
            self = .gtids(encoding: try data.require("gtid encoding"), try data.requireLengthEncodedString("gtids"))
        case .transactionCharacteristics:
            self = .transactionCharacteristics(try data.requireLengthEncodedString("transaction characteristics"))
        case .transactionState:
            self = .transactionState(try data.requireLengthEncodedString("transaction state"))
        case nil:
            self = .unknown(type: type, data: data)
        }
    }

    func write(into buffer: inout ByteBuffer) {
        var data = ByteBuffer()
        let type: UInt8
        switch self {
        case .systemVariable(let name, let value):
            type = TypeCode.systemVariables.rawValue
            data.writeLengthEncodedString(name)
            data.writeLengthEncodedString(value)
        case .schema(let name):
            type = TypeCode.schema.rawValue
            data.writeLengthEncodedString(name)
        case .stateChange(let changed):
            type = TypeCode.stateChange.rawValue
            data.writeLengthEncodedString(changed ? "1" : "0")
        case .gtids(let encoding, let gtids):
            type = TypeCode.gtids.rawValue
            data.writeInteger(encoding)
            data.writeLengthEncodedString(gtids)
        case .transactionCharacteristics(let characteristics):
            type = TypeCode.transactionCharacteristics.rawValue
            data.writeLengthEncodedString(characteristics)
        case .transactionState(let state):
            type = TypeCode.transactionState.rawValue
            data.writeLengthEncodedString(state)
        case .unknown(let unknownType, let raw):
            type = unknownType
            data = raw
        }
        buffer.writeInteger(type)
        buffer.writeLengthEncodedBuffer(data)
    }
}
