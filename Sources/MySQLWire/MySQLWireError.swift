/// Everything that can go wrong while reading or writing the MySQL wire protocol.
///
/// Each case means "this stream can no longer be trusted": a proxy closes the connection it came from.
public enum MySQLWireError: Error, Hashable, Sendable {
    /// A logical packet (a chain of 0xFFFFFF-byte physical packets) grew past the configured limit.
    case packetTooLarge(size: Int, limit: Int)
    /// A physical packet's payload cannot exceed 0xFFFFFF bytes; split it with `MySQLPacket.split`.
    case physicalPayloadTooLarge(size: Int)
    /// Packets of one exchange must be numbered consecutively (modulo 256).
    case wrongSequenceID(expected: UInt8, received: UInt8)
    /// The payload is truncated or holds a value that cannot be valid; the string names what.
    case malformedPacket(String)
    /// A well-formed packet arrived where the protocol does not allow it.
    case unexpectedPacket(String)
    /// A command was sent while the previous command's response was still in flight.
    case commandWhileResponsePending
    /// The server asked for an authentication plugin this library does not implement.
    case unsupportedAuthPlugin(String)
}
