import NIOCore

/// A message that is one logical packet's payload. Capabilities are the negotiated ones; messages
/// whose layout does not depend on them ignore the argument.
///
/// Decoders accept trailing bytes they do not know: servers append fields over the versions.
public protocol MySQLMessage: Hashable, Sendable {
    init(from payload: inout ByteBuffer, capabilities: CapabilityFlags) throws
    func write(into buffer: inout ByteBuffer, capabilities: CapabilityFlags)
}

extension MySQLMessage {
    /// Decodes a whole payload without consuming the caller's buffer.
    public init(payload: ByteBuffer, capabilities: CapabilityFlags) throws {
        var payload = payload
        try self.init(from: &payload, capabilities: capabilities)
    }

    /// Encodes into a new buffer.
    public func payload(capabilities: CapabilityFlags, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        write(into: &buffer, capabilities: capabilities)
        return buffer
    }
}
