import NIOCore

/// A TIME value of the binary protocol: a signed duration, not a time of day.
public struct MySQLTime: Hashable, Sendable {
    public var isNegative: Bool
    public var days: UInt32
    public var hours: UInt8
    public var minutes: UInt8
    public var seconds: UInt8
    public var microseconds: UInt32

    public init(isNegative: Bool = false, days: UInt32 = 0, hours: UInt8, minutes: UInt8, seconds: UInt8, microseconds: UInt32 = 0) {
        self.isNegative = isNegative
        self.days = days
        self.hours = hours
        self.minutes = minutes
        self.seconds = seconds
        self.microseconds = microseconds
    }

    /// Reads the length byte (0, 8 or 12) and the fields it covers; absent fields are zero.
    init(from buffer: inout ByteBuffer) throws {
        let length: UInt8 = try buffer.require("time length")
        guard [0, 8, 12].contains(length) else {
            throw MySQLWireError.malformedPacket("time length \(length)")
        }
        self.init(hours: 0, minutes: 0, seconds: 0)
        guard length > 0 else { return }
        isNegative = try buffer.require("time sign", as: UInt8.self) == 1
        days = try buffer.require("days")
        hours = try buffer.require("hours")
        minutes = try buffer.require("minutes")
        seconds = try buffer.require("seconds")
        if length == 12 {
            microseconds = try buffer.require("microseconds")
        }
    }

    func write(into buffer: inout ByteBuffer) {
        let isZero = !isNegative && days == 0 && (hours | minutes | seconds) == 0 && microseconds == 0
        let length: UInt8 = isZero ? 0 : microseconds != 0 ? 12 : 8
        buffer.writeInteger(length)
        guard length > 0 else { return }
        buffer.writeInteger(UInt8(isNegative ? 1 : 0))
        buffer.writeInteger(days, endianness: .little)
        buffer.writeInteger(hours)
        buffer.writeInteger(minutes)
        buffer.writeInteger(seconds)
        guard length > 8 else { return }
        buffer.writeInteger(microseconds, endianness: .little)
    }
}
