import NIOCore

/// One column's (or prepared-statement parameter's) metadata (Protocol::ColumnDefinition41).
public struct ColumnDefinition41: MySQLMessage {
    public var catalog: String
    public var schema: String
    public var table: String
    public var orgTable: String
    public var name: String
    public var orgName: String
    /// MariaDB's extended type info block (MARIADB_CLIENT_EXTENDED_TYPE_INFO), kept undecoded.
    public var extendedTypeInfo: ByteBuffer?
    /// A collation id; 63 (binary) marks binary data.
    public var characterSet: UInt16
    public var columnLength: UInt32
    public var type: ColumnType
    public var flags: ColumnFlags
    public var decimals: UInt8

    public init(
        catalog: String = "def",
        schema: String = "",
        table: String = "",
        orgTable: String = "",
        name: String,
        orgName: String = "",
        extendedTypeInfo: ByteBuffer? = nil,
        characterSet: UInt16 = UInt16(CharacterSetID.binary),
        columnLength: UInt32 = 0,
        type: ColumnType,
        flags: ColumnFlags = [],
        decimals: UInt8 = 0
    ) {
        self.catalog = catalog
        self.schema = schema
        self.table = table
        self.orgTable = orgTable
        self.name = name
        self.orgName = orgName
        self.extendedTypeInfo = extendedTypeInfo
        self.characterSet = characterSet
        self.columnLength = columnLength
        self.type = type
        self.flags = flags
        self.decimals = decimals
    }

    /// Length of the fixed-size block after the names.
    private static let fixedFieldsLength: UInt64 = 0x0C

    public init(from payload: inout ByteBuffer, capabilities: CapabilityFlags) throws {
        catalog = try payload.requireLengthEncodedString("catalog")
        schema = try payload.requireLengthEncodedString("schema")
        table = try payload.requireLengthEncodedString("table")
        orgTable = try payload.requireLengthEncodedString("org_table")
        name = try payload.requireLengthEncodedString("name")
        orgName = try payload.requireLengthEncodedString("org_name")
        extendedTypeInfo = capabilities.contains(.mariaDBExtendedTypeInfo)
            ? try payload.requireLengthEncodedSlice("extended type info") : nil
        guard try payload.requireLengthEncodedInteger("fixed fields length") >= Self.fixedFieldsLength else {
            throw MySQLWireError.malformedPacket("column definition: short fixed fields")
        }
        characterSet = try payload.require("character set")
        columnLength = try payload.require("column length")
        type = ColumnType(rawValue: try payload.require("column type"))
        flags = ColumnFlags(rawValue: try payload.require("column flags"))
        decimals = try payload.require("decimals")
        // Two filler bytes; COM_FIELD_LIST adds a default value after them, which is not kept.
        payload.moveReaderIndex(forwardBy: min(2, payload.readableBytes))
    }

    public func write(into buffer: inout ByteBuffer, capabilities: CapabilityFlags) {
        for field in [catalog, schema, table, orgTable, name, orgName] {
            buffer.writeLengthEncodedString(field)
        }
        if capabilities.contains(.mariaDBExtendedTypeInfo) {
            buffer.writeLengthEncodedBuffer(extendedTypeInfo ?? ByteBuffer())
        }
        buffer.writeLengthEncodedInteger(Self.fixedFieldsLength)
        buffer.writeInteger(characterSet, endianness: .little)
        buffer.writeInteger(columnLength, endianness: .little)
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(flags.rawValue, endianness: .little)
        buffer.writeInteger(decimals)
        buffer.writeRepeatingByte(0, count: 2)
    }
}
