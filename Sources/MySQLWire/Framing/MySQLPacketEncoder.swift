import NIOCore

/// Writes physical packets as they are; split logical payloads first with `MySQLPacket.split`.
public struct MySQLPacketEncoder: MessageToByteEncoder {
    public typealias OutboundIn = MySQLPacket

    public init() {}

    public func encode(data: MySQLPacket, out: inout ByteBuffer) throws {
        guard data.payload.readableBytes <= MySQLPacket.maximumPayloadLength else {
            throw MySQLWireError.physicalPayloadTooLarge(size: data.payload.readableBytes)
        }
        out.writeMySQLPacketUnchecked(data)
    }
}
