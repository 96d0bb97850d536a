import NIOCore

/// The end of a block of column definitions or rows when CLIENT_DEPRECATE_EOF is off.
public struct EOFPacket: MySQLMessage {
    public static let header: UInt8 = 0xFE
    /// An 0xFE-headed packet shorter than this is an EOF; a text row can start with 0xFE too, but
    /// then carries an 8-byte length after it.
    public static let maximumPayloadLength = 9

    public var warnings: UInt16
    public var statusFlags: ServerStatusFlags

    public init(warnings: UInt16 = 0, statusFlags: ServerStatusFlags = []) {
        self.warnings = warnings
        self.statusFlags = statusFlags
    }

    public init(from payload: inout ByteBuffer, capabilities: CapabilityFlags) throws {
        try payload.requireHeader(Self.header, "EOF packet")
        if capabilities.contains(.protocol41) {
            warnings = try payload.require("warnings")
            statusFlags = ServerStatusFlags(rawValue: try payload.require("status flags"))
        } else {
            warnings = 0
            statusFlags = []
        }
    }

    public func write(into buffer: inout ByteBuffer, capabilities: CapabilityFlags) {
        buffer.writeInteger(Self.header)
        if capabilities.contains(.protocol41) {
            buffer.writeInteger(warnings, endianness: .little)
            buffer.writeInteger(statusFlags.rawValue, endianness: .little)
        }
    }
}
