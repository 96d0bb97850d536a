import NIOCore

/// Plugin-specific data during authentication (0x01 + data), e.g. caching_sha2_password's status byte.
public struct AuthMoreData: MySQLMessage {
    public static let header: UInt8 = 0x01

    public var data: [UInt8]

    public init(data: [UInt8]) {
        self.data = data
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        try payload.requireHeader(Self.header, "auth more data")
        data = payload.readRemainingBytes()
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeInteger(Self.header)
        buffer.writeBytes(data)
    }
}
