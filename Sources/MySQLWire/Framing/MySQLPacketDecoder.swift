import NIOCore

/// Cuts a byte stream into physical packets without copying: each payload is a slice of the input.
///
/// It only reads 4 header bytes per packet, so forwarding packets unchanged stays cheap. It still
/// tracks chains of 0xFFFFFF-byte packets, refusing a logical packet larger than the limit as soon as
/// the header announcing the excess arrives (before its bytes are buffered).
public struct MySQLPacketDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = MySQLPacket

    /// MySQL's own ceiling for `max_allowed_packet`.
    public static let defaultMaximumLogicalPacketSize = 1 << 30

    public let maximumLogicalPacketSize: Int
    /// Payload bytes of the current chain's earlier packets.
    private var chainLength = 0

    public init(maximumLogicalPacketSize: Int = MySQLPacketDecoder.defaultMaximumLogicalPacketSize) {
        self.maximumLogicalPacketSize = maximumLogicalPacketSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> MySQLPacket? {
        guard let header = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self) else {
            return nil
        }
        let length = Int(header & 0xFF_FFFF)
        let logicalLength = chainLength + length
        guard logicalLength <= maximumLogicalPacketSize else {
            throw MySQLWireError.packetTooLarge(size: logicalLength, limit: maximumLogicalPacketSize)
        }
        guard buffer.readableBytes >= MySQLPacket.headerLength + length else { return nil }
        buffer.moveReaderIndex(forwardBy: MySQLPacket.headerLength)
        let packet = MySQLPacket(sequenceID: UInt8(truncatingIfNeeded: header >> 24), payload: buffer.readSlice(length: length)!)
        chainLength = packet.isContinued ? logicalLength : 0
        return packet
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> MySQLPacket? {
        try decode(buffer: &buffer)
    }
}
