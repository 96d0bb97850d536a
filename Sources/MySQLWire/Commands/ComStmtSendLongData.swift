import NIOCore

/// COM_STMT_SEND_LONG_DATA: stream a parameter's value in pieces before executing. No reply.
public struct ComStmtSendLongData: MySQLMessage {
    public var statementID: UInt32
    public var parameterID: UInt16
    public var data: ByteBuffer

    public init(statementID: UInt32, parameterID: UInt16, data: ByteBuffer) {
        self.statementID = statementID
        self.parameterID = parameterID
        self.data = data
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        statementID = try payload.readStatementCommand(.stmtSendLongData, "COM_STMT_SEND_LONG_DATA")
        parameterID = try payload.require("parameter id")
        data = payload.readSlice(length: payload.readableBytes)!
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeStatementCommand(.stmtSendLongData, statementID: statementID)
        buffer.writeInteger(parameterID, endianness: .little)
        buffer.writeImmutableBuffer(data)
    }
}
