import NIOCore

/// One physical packet: a 3-byte length, a sequence id and up to 0xFFFFFF bytes of payload.
///
/// A payload of exactly `maximumPayloadLength` bytes means the logical packet continues in the next
/// physical packet; `MySQLPacketAssembler` joins such chains.
public struct MySQLPacket: Hashable, Sendable {
    /// The largest payload of one physical packet; a payload this long is continued by the next packet.
    public static let maximumPayloadLength = 0xFF_FFFF
    /// Size of the length + sequence id header.
    public static let headerLength = 4

    public var sequenceID: UInt8
    public var payload: ByteBuffer

    public init(sequenceID: UInt8, payload: ByteBuffer) {
        self.sequenceID = sequenceID
        self.payload = payload
    }

    /// True when the next physical packet continues this one's logical packet.
    public var isContinued: Bool {
        payload.readableBytes == Self.maximumPayloadLength
    }

    /// Splits a logical payload of any size into physical packets numbered from `firstSequenceID`.
    ///
    /// The packets' payloads are slices of `payload` (no copy). A payload that is an exact multiple of
    /// 0xFFFFFF bytes (including an empty one) ends with an empty packet, as the protocol requires.
    public static func split(payload: ByteBuffer, firstSequenceID: UInt8) -> [MySQLPacket] {
        var remaining = payload
        var sequenceID = firstSequenceID
        var packets: [MySQLPacket] = []
        packets.reserveCapacity(remaining.readableBytes / maximumPayloadLength + 1)
        while true {
            let length = min(remaining.readableBytes, maximumPayloadLength)
            packets.append(MySQLPacket(sequenceID: sequenceID, payload: remaining.readSlice(length: length)!))
            sequenceID &+= 1
            if length < maximumPayloadLength { return packets }
        }
    }
}

extension ByteBuffer {
    /// Writes a logical payload of any size as physical packets (header + payload each).
    ///
    /// - Returns: the sequence id the next packet of this exchange must carry.
    @discardableResult
    public mutating func writeMySQLPackets(payload: ByteBuffer, firstSequenceID: UInt8) -> UInt8 {
        var next = firstSequenceID
        for packet in MySQLPacket.split(payload: payload, firstSequenceID: firstSequenceID) {
            writeMySQLPacketUnchecked(packet)
            next = packet.sequenceID &+ 1
        }
        return next
    }

    /// Writes one physical packet as it goes on the wire, header included. A payload of exactly
    /// the maximum stays one (continued) packet, as when relaying; a longer one is split,
    /// numbering the continuations after `packet.sequenceID`.
    public mutating func writeMySQLPacket(_ packet: MySQLPacket) {
        if packet.payload.readableBytes <= MySQLPacket.maximumPayloadLength {
            writeMySQLPacketUnchecked(packet)
        } else {
            writeMySQLPackets(payload: packet.payload, firstSequenceID: packet.sequenceID)
        }
    }

    /// Writes one physical packet whose payload is known to fit.
    mutating func writeMySQLPacketUnchecked(_ packet: MySQLPacket) {
        writeMySQLPacketHeader(length: packet.payload.readableBytes, sequenceID: packet.sequenceID)
        writeImmutableBuffer(packet.payload)
    }

    /// The 4-byte header of a physical packet of `length` (at most 0xFFFFFF) payload bytes.
    public mutating func writeMySQLPacketHeader(length: Int, sequenceID: UInt8) {
        writeInteger(UInt32(length) | UInt32(sequenceID) << 24, endianness: .little, as: UInt32.self)
    }
}

extension ByteBufferAllocator {
    /// One buffer holding the packet as it goes on the wire: for pipelines that write bytes
    /// and have no encoder handler.
    public func mysqlFrame(_ packet: MySQLPacket) -> ByteBuffer {
        var frame = buffer(capacity: MySQLPacket.headerLength + packet.payload.readableBytes)
        frame.writeMySQLPacket(packet)
        return frame
    }
}
