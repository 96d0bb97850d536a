import NIOCore

/// COM_STMT_EXECUTE: run a prepared statement with parameter values.
public struct ComStmtExecute: Hashable, Sendable {
    /// The cursor byte. MariaDB and MySQL open a cursor only for `.readOnly`.
    public struct CursorFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let readOnly = CursorFlags(rawValue: 1)
        public static let forUpdate = CursorFlags(rawValue: 2)
        public static let scrollable = CursorFlags(rawValue: 4)
    }

    /// The fixed part every execute packet starts with; enough for a proxy to route or remap it.
    public struct Header: Hashable, Sendable {
        public var statementID: UInt32
        public var flags: CursorFlags
        public var iterationCount: UInt32

        public init(statementID: UInt32, flags: CursorFlags = [], iterationCount: UInt32 = 1) {
            self.statementID = statementID
            self.flags = flags
            self.iterationCount = iterationCount
        }

        public init(from payload: inout ByteBuffer) throws {
            try payload.requireHeader(CommandCode.stmtExecute.rawValue, "COM_STMT_EXECUTE")
            statementID = try payload.require("statement id")
            flags = CursorFlags(rawValue: try payload.require("cursor flags"))
            iterationCount = try payload.require("iteration count")
        }

        func write(into buffer: inout ByteBuffer) {
            buffer.writeInteger(CommandCode.stmtExecute.rawValue)
            buffer.writeInteger(statementID, endianness: .little)
            buffer.writeInteger(flags.rawValue)
            buffer.writeInteger(iterationCount, endianness: .little)
        }
    }

    /// A parameter's wire type: the column type plus the unsigned flag (0x80 in the second byte).
    public struct ParameterType: Hashable, Sendable {
        public var type: ColumnType
        public var isUnsigned: Bool

        public init(type: ColumnType, isUnsigned: Bool = false) {
            self.type = type
            self.isUnsigned = isUnsigned
        }
    }

    public var header: Header
    public var parameters: [MySQLBinaryValue]
    /// The new-params-bound flag: types are sent with the values. Clients send them on the first
    /// execution; later executions may reuse the types bound before.
    public var sendsTypes: Bool

    public init(statementID: UInt32, flags: CursorFlags = [], parameters: [MySQLBinaryValue] = [], sendsTypes: Bool = true) {
        header = Header(statementID: statementID, flags: flags)
        self.parameters = parameters
        self.sendsTypes = sendsTypes
    }

    /// Decodes the header and `parameterCount` values (known only from the prepare response). Without the new-params-bound flag the
    /// values are read with `previousTypes`, the types bound by an earlier execution.
    public init(from payload: inout ByteBuffer, parameterCount: Int, previousTypes: [ParameterType]? = nil) throws {
        header = try Header(from: &payload)
        parameters = []
        sendsTypes = parameterCount > 0
        guard parameterCount > 0 else { return }
        let bitmap = try payload.requireBytes("NULL bitmap", length: NullBitmap.length(count: parameterCount, offset: 0))
        sendsTypes = try payload.require("new params bound flag", as: UInt8.self) == 1
        let types: [ParameterType]
        if sendsTypes {
            types = try (0..<parameterCount).map { _ in
                let type: UInt8 = try payload.require("parameter type")
                let flags: UInt8 = try payload.require("parameter flags")
                return ParameterType(type: ColumnType(rawValue: type), isUnsigned: flags & 0x80 != 0)
            }
        } else if let previousTypes, previousTypes.count == parameterCount {
            types = previousTypes
        } else {
            throw MySQLWireError.malformedPacket("COM_STMT_EXECUTE without bound parameter types")
        }
        parameters = try types.enumerated().map { index, type in
            NullBitmap.isSet(bitmap, index: index, offset: 0)
                ? .null
                : try MySQLBinaryValue(from: &payload, type: type.type, isUnsigned: type.isUnsigned)
        }
    }

    /// The types `write` sends for `parameters`.
    public var parameterTypes: [ParameterType] {
        parameters.map { ParameterType(type: $0.parameterType.type, isUnsigned: $0.parameterType.isUnsigned) }
    }

    public func write(into buffer: inout ByteBuffer) {
        header.write(into: &buffer)
        guard !parameters.isEmpty else { return }
        buffer.writeBytes(NullBitmap.make(parameters.map { $0 == .null }, offset: 0))
        buffer.writeInteger(UInt8(sendsTypes ? 1 : 0))
        let types = parameterTypes
        if sendsTypes {
            for type in types {
                buffer.writeInteger(type.type.rawValue)
                buffer.writeInteger(UInt8(type.isUnsigned ? 0x80 : 0))
            }
        }
        for (value, type) in zip(parameters, types) {
            value.write(into: &buffer, type: type.type)
        }
    }
}
