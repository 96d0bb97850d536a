import NIOCore

extension ChannelHandlerContext {
    /// Writes one physical packet down a pipeline that carries bytes (no encoder handler).
    /// A large payload goes out as a header and the payload itself, without a copy; a small
    /// one is copied behind its header, which is cheaper than a second buffer to write.
    public func writeMySQLPacket(_ packet: MySQLPacket, flush: Bool = false) {
        let length = packet.payload.readableBytes
        if length >= 16 * 1024 && length <= MySQLPacket.maximumPayloadLength {
            var header = channel.allocator.buffer(capacity: MySQLPacket.headerLength)
            header.writeMySQLPacketHeader(length: length, sequenceID: packet.sequenceID)
            write(NIOAny(header), promise: nil)
            write(NIOAny(packet.payload), promise: nil)
        } else {
            write(NIOAny(channel.allocator.mysqlFrame(packet)), promise: nil)
        }
        if flush { self.flush() }
    }
}
