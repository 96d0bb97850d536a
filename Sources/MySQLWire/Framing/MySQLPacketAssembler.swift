import NIOCore

/// Joins physical packets into logical payloads and checks that sequence ids count up by one.
///
/// A payload that fits one packet is returned as is (no copy); only split payloads are joined.
public struct MySQLPacketAssembler: Sendable {
    public let maximumPayloadSize: Int
    /// The sequence id the next packet must carry; nil accepts any (the start of an exchange).
    public private(set) var expectedSequenceID: UInt8?
    private var pending: ByteBuffer?

    public init(
        maximumPayloadSize: Int = MySQLPacketDecoder.defaultMaximumLogicalPacketSize,
        expectedSequenceID: UInt8? = nil
    ) {
        self.maximumPayloadSize = maximumPayloadSize
        self.expectedSequenceID = expectedSequenceID
    }

    /// Starts a new exchange (a new command), whose first packet carries `sequenceID` (nil: any).
    public mutating func reset(expectedSequenceID: UInt8? = nil) {
        self.expectedSequenceID = expectedSequenceID
        pending = nil
    }

    /// Adds one physical packet. Returns the logical payload once its last packet arrived.
    public mutating func append(_ packet: MySQLPacket) throws -> ByteBuffer? {
        if let expected = expectedSequenceID, expected != packet.sequenceID {
            throw MySQLWireError.wrongSequenceID(expected: expected, received: packet.sequenceID)
        }
        expectedSequenceID = packet.sequenceID &+ 1
        let pendingLength = pending?.readableBytes ?? 0
        let total = pendingLength + packet.payload.readableBytes
        guard total <= maximumPayloadSize else {
            throw MySQLWireError.packetTooLarge(size: total, limit: maximumPayloadSize)
        }
        if pending == nil, !packet.isContinued { return packet.payload }
        var joined = pending ?? ByteBuffer()
        joined.writeImmutableBuffer(packet.payload)
        if packet.isContinued {
            pending = joined
            return nil
        }
        pending = nil
        return joined
    }
}
