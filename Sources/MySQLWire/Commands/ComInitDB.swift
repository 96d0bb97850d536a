import NIOCore

/// COM_INIT_DB: change the default schema (what `USE` does).
public struct ComInitDB: MySQLMessage {
    public var schema: String

    public init(schema: String) {
        self.schema = schema
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        try payload.requireHeader(CommandCode.initDB.rawValue, "COM_INIT_DB")
        schema = payload.readRemainingString()
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeInteger(CommandCode.initDB.rawValue)
        buffer.writeString(schema)
    }
}
