import NIOCore

/// A failed command's answer (Protocol::ERR_Packet).
public struct ERRPacket: MySQLMessage, Error {
    public static let header: UInt8 = 0xFF
    /// MariaDB sends progress reports as ERR packets with this code (MARIADB_CLIENT_PROGRESS).
    public static let progressReportCode: UInt16 = 0xFFFF

    public var errorCode: UInt16
    /// Five characters; nil for the pre-4.1 form, which carries no SQL state.
    public var sqlState: String?
    public var message: String

    public init(errorCode: UInt16, sqlState: String?, message: String) {
        self.errorCode = errorCode
        self.sqlState = sqlState
        self.message = message
    }

    /// ER_NOT_SUPPORTED_AUTH_MODE: what a proxy answers when a client or server wants an
    /// authentication plugin it cannot speak.
    public static func unsupportedAuthPlugin(_ name: String) -> ERRPacket {
        ERRPacket(
            errorCode: 1251,
            sqlState: "08004",
            message: "Client does not support authentication protocol requested by server (\(name))"
        )
    }

    public init(from payload: inout ByteBuffer, capabilities: CapabilityFlags) throws {
        try payload.requireHeader(Self.header, "ERR packet")
        errorCode = try payload.require("error code")
        // The '#' marker is optional even under CLIENT_PROTOCOL_41 (errors sent before the handshake).
        if capabilities.contains(.protocol41), payload.getInteger(at: payload.readerIndex, as: UInt8.self) == UInt8(ascii: "#") {
            payload.moveReaderIndex(forwardBy: 1)
            guard let state = payload.readString(length: 5) else {
                throw MySQLWireError.malformedPacket("truncated SQL state")
            }
            sqlState = state
        } else {
            sqlState = nil
        }
        message = payload.readRemainingString()
    }

    public func write(into buffer: inout ByteBuffer, capabilities: CapabilityFlags) {
        buffer.writeInteger(Self.header)
        buffer.writeInteger(errorCode, endianness: .little)
        if capabilities.contains(.protocol41), let sqlState {
            buffer.writeInteger(UInt8(ascii: "#"))
            buffer.writeString(sqlState)
        }
        buffer.writeString(message)
    }
}
