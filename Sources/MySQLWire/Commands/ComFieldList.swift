import NIOCore

/// COM_FIELD_LIST (deprecated): list a table's columns matching a wildcard.
public struct ComFieldList: MySQLMessage {
    public var table: String
    public var wildcard: String

    public init(table: String, wildcard: String = "") {
        self.table = table
        self.wildcard = wildcard
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        try payload.requireHeader(CommandCode.fieldList.rawValue, "COM_FIELD_LIST")
        table = try payload.requireNullTerminatedString("table")
        wildcard = payload.readRemainingString()
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeInteger(CommandCode.fieldList.rawValue)
        buffer.writeNullTerminatedString(table)
        buffer.writeString(wildcard)
    }
}
