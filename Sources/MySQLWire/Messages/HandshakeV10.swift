import NIOCore

/// The server's greeting (Protocol::HandshakeV10), the first packet of every connection.
public struct HandshakeV10: MySQLMessage {
    public var protocolVersion: UInt8
    public var serverVersion: String
    public var connectionID: UInt32
    /// The nonce ("scramble"), normally 20 bytes, without the trailing NUL the wire adds.
    public var authPluginData: [UInt8]
    /// Includes MariaDB's extended capabilities (upper 32 bits) when the server sends them.
    public var capabilities: CapabilityFlags
    public var characterSet: UInt8
    public var statusFlags: ServerStatusFlags
    public var authPluginName: String?

    public init(
        protocolVersion: UInt8 = 10,
        serverVersion: String,
        connectionID: UInt32,
        authPluginData: [UInt8],
        capabilities: CapabilityFlags,
        characterSet: UInt8,
        statusFlags: ServerStatusFlags,
        authPluginName: String?
    ) {
        self.protocolVersion = protocolVersion
        self.serverVersion = serverVersion
        self.connectionID = connectionID
        self.authPluginData = authPluginData
        self.capabilities = capabilities
        self.characterSet = characterSet
        self.statusFlags = statusFlags
        self.authPluginName = authPluginName
    }

    /// The greeting does not depend on negotiated capabilities; the argument is ignored.
    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        protocolVersion = try payload.require("protocol version")
        guard protocolVersion == 10 else {
            throw MySQLWireError.malformedPacket("unsupported handshake protocol version \(protocolVersion)")
        }
        serverVersion = try payload.requireNullTerminatedString("server version")
        connectionID = try payload.require("connection id")
        authPluginData = try payload.requireBytes("auth plugin data part 1", length: 8)
        _ = try payload.require("filler", as: UInt8.self)
        let lowerCapabilities = UInt32(try payload.require("capability flags", as: UInt16.self))
        guard payload.readableBytes > 0 else {
            // Pre-4.1 servers stop here.
            capabilities = CapabilityFlags(rawValue: UInt64(lowerCapabilities))
            characterSet = 0
            statusFlags = []
            authPluginName = nil
            return
        }
        characterSet = try payload.require("character set")
        statusFlags = ServerStatusFlags(rawValue: try payload.require("status flags"))
        let upperCapabilities = UInt32(try payload.require("upper capability flags", as: UInt16.self))
        let authPluginDataLength = Int(try payload.require("auth plugin data length", as: UInt8.self))
        _ = try payload.requireSlice("reserved", length: 6)
        let mariaDBCapabilities: UInt32 = try payload.require("MariaDB capabilities")
        var flags = CapabilityFlags(rawValue: UInt64(lowerCapabilities | upperCapabilities << 16))
        if !flags.contains(.clientMySQL) {
            flags = CapabilityFlags(lowerBits: flags.lowerBits, mariaDBExtendedBits: mariaDBCapabilities)
        }
        capabilities = flags
        if flags.contains(.secureConnection) {
            var part2 = try payload.requireBytes("auth plugin data part 2", length: max(13, authPluginDataLength - 8))
            if part2.last == 0 { part2.removeLast() }
            authPluginData += part2
        }
        if flags.contains(.pluginAuth) {
            // MySQL 5.5.7-5.5.9 forgot the NUL.
            authPluginName = payload.readNullTerminatedString() ?? payload.readRemainingString()
        } else {
            authPluginName = nil
        }
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeInteger(protocolVersion)
        buffer.writeNullTerminatedString(serverVersion)
        buffer.writeInteger(connectionID, endianness: .little)
        buffer.writeBytes(authPluginData.prefix(8))
        buffer.writeBytes(Array(repeating: 0, count: 8 - min(8, authPluginData.count)))
        buffer.writeInteger(UInt8(0))
        let lower = capabilities.lowerBits
        buffer.writeInteger(UInt16(truncatingIfNeeded: lower), endianness: .little)
        buffer.writeInteger(characterSet)
        buffer.writeInteger(statusFlags.rawValue, endianness: .little)
        buffer.writeInteger(UInt16(truncatingIfNeeded: lower >> 16), endianness: .little)
        buffer.writeInteger(capabilities.contains(.pluginAuth) ? UInt8(authPluginData.count + 1) : 0)
        buffer.writeRepeatingByte(0, count: 6)
        let mariaDBBits = capabilities.contains(.clientMySQL) ? 0 : capabilities.mariaDBExtendedBits
        buffer.writeInteger(mariaDBBits, endianness: .little)
        if capabilities.contains(.secureConnection) {
            let part2 = authPluginData.dropFirst(8)
            buffer.writeBytes(part2)
            buffer.writeRepeatingByte(0, count: max(13 - part2.count, 1))
        }
        if capabilities.contains(.pluginAuth) {
            buffer.writeNullTerminatedString(authPluginName ?? "")
        }
    }
}
