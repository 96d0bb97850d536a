import NIOCore

/// COM_CHANGE_USER: re-authenticate on the same connection, resetting the session.
/// An authentication exchange (like the handshake's) follows.
public struct ComChangeUser: MySQLMessage {
    public var username: String
    public var authResponse: [UInt8]
    public var schema: String
    /// Absent in packets from very old clients.
    public var characterSet: UInt16?
    /// Sent when CLIENT_PLUGIN_AUTH is negotiated.
    public var authPluginName: String?
    /// Sent when CLIENT_CONNECT_ATTRS is negotiated.
    public var attributes: [ConnectAttribute]

    public init(
        username: String,
        authResponse: [UInt8],
        schema: String = "",
        characterSet: UInt16? = UInt16(CharacterSetID.utf8mb4GeneralCI),
        authPluginName: String? = nil,
        attributes: [ConnectAttribute] = []
    ) {
        self.username = username
        self.authResponse = authResponse
        self.schema = schema
        self.characterSet = characterSet
        self.authPluginName = authPluginName
        self.attributes = attributes
    }

    public init(from payload: inout ByteBuffer, capabilities: CapabilityFlags) throws {
        try payload.requireHeader(CommandCode.changeUser.rawValue, "COM_CHANGE_USER")
        username = try payload.requireNullTerminatedString("username")
        // Unlike the handshake response, COM_CHANGE_USER never uses the lenenc form.
        authResponse = try payload.readAuthResponse(capabilities: capabilities.subtracting(.pluginAuthLenencClientData))
        schema = try payload.requireNullTerminatedString("schema")
        characterSet = payload.readInteger(endianness: .little, as: UInt16.self)
        authPluginName = capabilities.contains(.pluginAuth) && payload.readableBytes > 0
            ? try payload.requireNullTerminatedString("auth plugin name") : nil
        attributes = capabilities.contains(.connectAttrs) && payload.readableBytes > 0 ? try payload.readConnectAttributes() : []
    }

    public func write(into buffer: inout ByteBuffer, capabilities: CapabilityFlags) {
        buffer.writeInteger(CommandCode.changeUser.rawValue)
        buffer.writeNullTerminatedString(username)
        buffer.writeAuthResponse(authResponse, capabilities: capabilities.subtracting(.pluginAuthLenencClientData))
        buffer.writeNullTerminatedString(schema)
        guard let characterSet else { return }
        buffer.writeInteger(characterSet, endianness: .little)
        if capabilities.contains(.pluginAuth) { buffer.writeNullTerminatedString(authPluginName ?? "") }
        if capabilities.contains(.connectAttrs) { buffer.writeConnectAttributes(attributes) }
    }
}
