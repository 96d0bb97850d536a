import NIOCore

/// The first packet of a successful COM_STMT_PREPARE response.
public struct ComStmtPrepareOK: MySQLMessage {
    public static let header: UInt8 = 0x00

    public var statementID: UInt32
    public var columnCount: UInt16
    public var parameterCount: UInt16
    public var warnings: UInt16

    public init(statementID: UInt32, columnCount: UInt16, parameterCount: UInt16, warnings: UInt16 = 0) {
        self.statementID = statementID
        self.columnCount = columnCount
        self.parameterCount = parameterCount
        self.warnings = warnings
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        try payload.requireHeader(Self.header, "prepare OK")
        statementID = try payload.require("statement id")
        columnCount = try payload.require("column count")
        parameterCount = try payload.require("parameter count")
        // The filler and warnings are absent from some old servers' packets.
        _ = payload.readInteger(as: UInt8.self)
        warnings = payload.readInteger(endianness: .little, as: UInt16.self) ?? 0
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeInteger(Self.header)
        buffer.writeInteger(statementID, endianness: .little)
        buffer.writeInteger(columnCount, endianness: .little)
        buffer.writeInteger(parameterCount, endianness: .little)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(warnings, endianness: .little)
    }
}
