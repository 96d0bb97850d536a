import NIOCore

/// Connection attributes (`_client_name`, `_pid`, ...) as ordered key/value pairs, as clients send them.
public struct ConnectAttribute: Hashable, Sendable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

extension ByteBuffer {
    /// Reads the length-prefixed block of attributes sent with CLIENT_CONNECT_ATTRS.
    mutating func readConnectAttributes() throws -> [ConnectAttribute] {
        var block = try requireLengthEncodedSlice("connect attributes")
        var attributes: [ConnectAttribute] = []
        while block.readableBytes > 0 {
            let key = try block.requireLengthEncodedString("connect attribute key")
            let value = try block.requireLengthEncodedString("connect attribute value")
            attributes.append(ConnectAttribute(key: key, value: value))
        }
        return attributes
    }

    mutating func writeConnectAttributes(_ attributes: [ConnectAttribute]) {
        var block = ByteBuffer()
        for attribute in attributes {
            block.writeLengthEncodedString(attribute.key)
            block.writeLengthEncodedString(attribute.value)
        }
        writeLengthEncodedBuffer(block)
    }
}
