import NIOCore

/// The server asks the client to authenticate again with another plugin (0xFE + name + data).
public struct AuthSwitchRequest: MySQLMessage {
    public static let header: UInt8 = 0xFE

    public var pluginName: String
    /// The new nonce, without the trailing NUL some plugins add on the wire.
    public var pluginData: [UInt8]

    public init(pluginName: String, pluginData: [UInt8]) {
        self.pluginName = pluginName
        self.pluginData = pluginData
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        try payload.requireHeader(Self.header, "auth switch request")
        pluginName = payload.readNullTerminatedString() ?? payload.readRemainingString()
        var data = payload.readRemainingBytes()
        if data.last == 0 { data.removeLast() }
        pluginData = data
    }

    /// Writes the data NUL-terminated, as MariaDB and MySQL do for their nonce-based plugins.
    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeInteger(Self.header)
        buffer.writeNullTerminatedString(pluginName)
        buffer.writeBytes(pluginData)
        buffer.writeInteger(UInt8(0))
    }
}
