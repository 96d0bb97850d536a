import NIOCore

/// A DATE, DATETIME or TIMESTAMP value of the binary protocol.
public struct MySQLDateTime: Hashable, Sendable {
    public var year: UInt16
    public var month: UInt8
    public var day: UInt8
    public var hour: UInt8
    public var minute: UInt8
    public var second: UInt8
    public var microsecond: UInt32

    public init(year: UInt16, month: UInt8, day: UInt8, hour: UInt8 = 0, minute: UInt8 = 0, second: UInt8 = 0, microsecond: UInt32 = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.microsecond = microsecond
    }

    /// Reads the length byte (0, 4, 7 or 11) and the fields it covers; absent fields are zero.
    init(from buffer: inout ByteBuffer) throws {
        let length: UInt8 = try buffer.require("datetime length")
        guard [0, 4, 7, 11].contains(length) else {
            throw MySQLWireError.malformedPacket("datetime length \(length)")
        }
        self.init(year: 0, month: 0, day: 0)
        if length >= 4 {
            year = try buffer.require("year")
            month = try buffer.require("month")
            day = try buffer.require("day")
        }
        if length >= 7 {
            hour = try buffer.require("hour")
            minute = try buffer.require("minute")
            second = try buffer.require("second")
        }
        if length == 11 {
            microsecond = try buffer.require("microsecond")
        }
    }

    /// Writes the shortest form that holds every non-zero field, as servers do.
    func write(into buffer: inout ByteBuffer) {
        let length: UInt8 = microsecond != 0 ? 11
            : (hour | minute | second) != 0 ? 7
            : (year != 0 || (month | day) != 0) ? 4 : 0
        buffer.writeInteger(length)
        guard length > 0 else { return }
        buffer.writeInteger(year, endianness: .little)
        buffer.writeInteger(month)
        buffer.writeInteger(day)
        guard length > 4 else { return }
        buffer.writeInteger(hour)
        buffer.writeInteger(minute)
        buffer.writeInteger(second)
        guard length > 7 else { return }
        buffer.writeInteger(microsecond, endianness: .little)
    }
}
