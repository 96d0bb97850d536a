import NIOCore

/// The short handshake response a client sends to ask for TLS before the real `HandshakeResponse41`.
public struct SSLRequest: MySQLMessage {
    /// Payload length of an SSL request; a full handshake response is always longer.
    public static let payloadLength = 32

    public var capabilities: CapabilityFlags
    public var maxPacketSize: UInt32
    public var characterSet: UInt8

    public init(capabilities: CapabilityFlags, maxPacketSize: UInt32, characterSet: UInt8) {
        self.capabilities = capabilities
        self.maxPacketSize = maxPacketSize
        self.characterSet = characterSet
    }

    /// True when a client's handshake-response payload is an SSL request rather than a full response.
    public static func matches(_ payload: ByteBuffer) -> Bool {
        guard payload.readableBytes == payloadLength,
              let lower = payload.getInteger(at: payload.readerIndex, endianness: .little, as: UInt32.self) else {
            return false
        }
        return CapabilityFlags(rawValue: UInt64(lower)).contains(.ssl)
    }

    /// The client's capabilities are read from the payload; the argument is ignored.
    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        (capabilities, maxPacketSize, characterSet) = try payload.readHandshakeResponsePrefix()
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeHandshakeResponsePrefix(capabilities: capabilities, maxPacketSize: maxPacketSize, characterSet: characterSet)
    }
}

extension ByteBuffer {
    /// The 32 bytes shared by `SSLRequest` and `HandshakeResponse41`.
    mutating func readHandshakeResponsePrefix() throws -> (CapabilityFlags, UInt32, UInt8) {
        let lower: UInt32 = try require("client capability flags")
        let maxPacketSize: UInt32 = try require("max packet size")
        let characterSet: UInt8 = try require("character set")
        _ = try requireSlice("filler", length: 19)
        let mariaDBBits: UInt32 = try require("MariaDB capabilities")
        var capabilities = CapabilityFlags(rawValue: UInt64(lower))
        if !capabilities.contains(.clientMySQL) {
            capabilities = CapabilityFlags(lowerBits: lower, mariaDBExtendedBits: mariaDBBits)
        }
        return (capabilities, maxPacketSize, characterSet)
    }

    mutating func writeHandshakeResponsePrefix(capabilities: CapabilityFlags, maxPacketSize: UInt32, characterSet: UInt8) {
        writeInteger(capabilities.lowerBits, endianness: .little)
        writeInteger(maxPacketSize, endianness: .little)
        writeInteger(characterSet)
        writeRepeatingByte(0, count: 19)
        writeInteger(capabilities.contains(.clientMySQL) ? 0 : capabilities.mariaDBExtendedBits, endianness: .little)
    }
}
