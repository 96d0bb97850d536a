import NIOCore

/// The start of a packet that has not fully arrived, kept from one read to the next in a buffer of
/// its own: the read buffer it came in is shared with the packets already cut from it, so
/// appending there would copy it. A large packet arriving over many reads grows this one buffer
/// (sized for the whole packet once its header is in), and is not copied again at each read.
public struct PacketRemainder: Sendable {
    private var kept: ByteBuffer?
    private var keptIsInput = false

    public init() {}

    /// No bytes wait for the rest of their packet.
    public var isEmpty: Bool { kept == nil }

    /// What to decode now: the kept bytes followed by `buffer`, or `buffer` itself.
    public mutating func joined(with buffer: ByteBuffer) -> ByteBuffer {
        guard var kept else {
            keptIsInput = false
            return buffer
        }
        self.kept = nil
        var incoming = buffer
        kept.writeBuffer(&incoming)
        keptIsInput = true
        return kept
    }

    /// Keeps what decoding left of the buffer `joined(with:)` returned.
    /// `allocator` is only asked for when there is something to keep (asking a channel for its
    /// allocator costs more than the usual empty case).
    public mutating func keep(_ rest: ByteBuffer, allocator: @autoclosure () -> ByteBufferAllocator) {
        guard rest.readableBytes > 0 else { return }
        if keptIsInput && rest.readerIndex == 0 {
            kept = rest   // nothing was cut from the kept buffer: it is still only this packet's
            return
        }
        let announced = rest.getInteger(at: rest.readerIndex, endianness: .little, as: UInt32.self)
            .map { Int($0 & 0xFF_FFFF) + MySQLPacket.headerLength } ?? 0
        var own = allocator().buffer(capacity: max(announced, rest.readableBytes))
        var bytes = rest
        own.writeBuffer(&bytes)
        kept = own
    }
}
