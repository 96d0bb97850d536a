import NIOCore

/// COM_SET_OPTION: switch multi-statement support for the session. Answered by EOF or ERR.
public struct ComSetOption: MySQLMessage {
    public struct Option: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        public static let multiStatementsOn = Option(rawValue: 0)
        public static let multiStatementsOff = Option(rawValue: 1)
    }

    public var option: Option

    public init(option: Option) {
        self.option = option
    }

    public init(from payload: inout ByteBuffer, capabilities _: CapabilityFlags = []) throws {
        try payload.requireHeader(CommandCode.setOption.rawValue, "COM_SET_OPTION")
        option = Option(rawValue: try payload.require("option"))
    }

    public func write(into buffer: inout ByteBuffer, capabilities _: CapabilityFlags = []) {
        buffer.writeInteger(CommandCode.setOption.rawValue)
        buffer.writeInteger(option.rawValue, endianness: .little)
    }
}
