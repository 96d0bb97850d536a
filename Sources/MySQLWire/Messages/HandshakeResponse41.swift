import NIOCore

/// The client's answer to `HandshakeV10` (Protocol::HandshakeResponse41).
///
/// Its own capability flags decide the layout, so decoding needs no negotiated capabilities. A
/// 32-byte payload with CLIENT_SSL is an `SSLRequest` instead: check `SSLRequest.matches` first.
public struct HandshakeResponse41: MySQLMessage {
    public var capabilities: CapabilityFlags
    public var maxPacketSize: UInt32
    public var characterSet: UInt8
    public var username: String
    public var authResponse: [UInt8]
    /// Sent when CLIENT_CONNECT_WITH_DB is set.
    public var database: String?
    /// Sent when CLIENT_PLUGIN_AUTH is set.
    public var authPluginName: String?
    /// Sent when CLIENT_CONNECT_ATTRS is set.
    public var attributes: [ConnectAttribute]

    public init(
        capabilities: CapabilityFlags,
        maxPacketSize: UInt32 = 1 << 24,
        characterSet: UInt8 = CharacterSetID.utf8mb4GeneralCI,
        username: String,
        authResponse: [UInt8],
        database: String? = nil,
        authPluginName: String? = nil,
        attributes: [ConnectAttribute] = []
    ) {
        self.capabilities = capabilities
        self.maxPacketSize = maxPacketSize
        self.characterSet = characterSet
        self.username = username
        self.authResponse = authResponse
        self.database = database
        self.authPluginName = authPluginName
        self.attributes = attributes
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        (capabilities, maxPacketSize, characterSet) = try payload.readHandshakeResponsePrefix()
        username = try payload.requireNullTerminatedString("username")
        authResponse = try payload.readAuthResponse(capabilities: capabilities)
        database = capabilities.contains(.connectWithDB) ? try payload.requireNullTerminatedString("database") : nil
        // Some clients set CLIENT_PLUGIN_AUTH and still end the packet early.
        authPluginName = capabilities.contains(.pluginAuth) && payload.readableBytes > 0
            ? try payload.requireNullTerminatedString("auth plugin name") : nil
        attributes = capabilities.contains(.connectAttrs) && payload.readableBytes > 0 ? try payload.readConnectAttributes() : []
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeHandshakeResponsePrefix(capabilities: capabilities, maxPacketSize: maxPacketSize, characterSet: characterSet)
        buffer.writeNullTerminatedString(username)
        buffer.writeAuthResponse(authResponse, capabilities: capabilities)
        if capabilities.contains(.connectWithDB) { buffer.writeNullTerminatedString(database ?? "") }
        if capabilities.contains(.pluginAuth) { buffer.writeNullTerminatedString(authPluginName ?? "") }
        if capabilities.contains(.connectAttrs) { buffer.writeConnectAttributes(attributes) }
    }
}

extension ByteBuffer {
    /// The auth response in whichever of its three encodings the flags select.
    mutating func readAuthResponse(capabilities: CapabilityFlags) throws -> [UInt8] {
        if capabilities.contains(.pluginAuthLenencClientData) {
            return Array(try requireLengthEncodedSlice("auth response").readableBytesView)
        }
        if capabilities.contains(.secureConnection) {
            let length: UInt8 = try require("auth response length")
            return try requireBytes("auth response", length: Int(length))
        }
        guard let response = readNullTerminatedSlice() else {
            throw MySQLWireError.malformedPacket("truncated or invalid auth response")
        }
        return Array(response.readableBytesView)
    }

    mutating func writeAuthResponse(_ response: [UInt8], capabilities: CapabilityFlags) {
        if capabilities.contains(.pluginAuthLenencClientData) {
            writeLengthEncodedBytes(response)
        } else if capabilities.contains(.secureConnection) {
            writeInteger(UInt8(truncatingIfNeeded: response.count))
            writeBytes(response.prefix(255))
        } else {
            writeBytes(response)
            writeInteger(UInt8(0))
        }
    }
}
