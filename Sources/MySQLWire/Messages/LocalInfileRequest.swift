import NIOCore

/// The server asks the client for a file's contents (LOAD DATA LOCAL INFILE): 0xFB + file name.
public struct LocalInfileRequest: MySQLMessage {
    public static let header: UInt8 = 0xFB

    public var filename: String

    public init(filename: String) {
        self.filename = filename
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        try payload.requireHeader(Self.header, "local infile request")
        filename = payload.readRemainingString()
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeInteger(Self.header)
        buffer.writeString(filename)
    }
}
