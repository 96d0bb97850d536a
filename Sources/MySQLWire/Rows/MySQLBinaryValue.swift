import NIOCore

/// A value of the binary protocol (prepared-statement rows and parameters).
public enum MySQLBinaryValue: Hashable, Sendable {
    case null
    /// TINY, SHORT, INT24, LONG, LONGLONG and YEAR without the UNSIGNED flag.
    case signed(Int64)
    /// The same types with the UNSIGNED flag.
    case unsigned(UInt64)
    case float(Float)
    case double(Double)
    /// DATE, DATETIME, TIMESTAMP.
    case dateTime(MySQLDateTime)
    case time(MySQLTime)
    /// Everything sent as a length-encoded string: DECIMAL, strings, blobs, BIT, ENUM, SET, JSON, GEOMETRY.
    case bytes(ByteBuffer)

    /// Reads a non-NULL value of `type`.
    init(from buffer: inout ByteBuffer, type: ColumnType, isUnsigned: Bool) throws {
        func integer<T: FixedWidthInteger>(_: T.Type) throws -> MySQLBinaryValue {
            let value: T = try buffer.require("integer value")
            return isUnsigned ? .unsigned(UInt64(truncatingIfNeeded: value)) : .signed(Int64(truncatingIfNeeded: value))
        }
        switch type {
        case .tiny: self = isUnsigned ? try integer(UInt8.self) : try integer(Int8.self)
        case .short, .year: self = isUnsigned ? try integer(UInt16.self) : try integer(Int16.self)
        case .long, .int24: self = isUnsigned ? try integer(UInt32.self) : try integer(Int32.self)
        case .longlong: self = isUnsigned ? try integer(UInt64.self) : try integer(Int64.self)
        case .float: self = .float(Float(bitPattern: try buffer.require("float value")))
        case .double: self = .double(Double(bitPattern: try buffer.require("double value")))
        case .date, .datetime, .timestamp, .newdate, .datetime2, .timestamp2:
            self = .dateTime(try MySQLDateTime(from: &buffer))
        case .time, .time2: self = .time(try MySQLTime(from: &buffer))
        case .null: self = .null
        default: self = .bytes(try buffer.requireLengthEncodedSlice("string value"))
        }
    }

    /// Writes a non-NULL value in `type`'s wire form (integers are truncated to the type's width).
    func write(into buffer: inout ByteBuffer, type: ColumnType) {
        switch self {
        case .null:
            return
        case .signed(let value):
            Self.writeInteger(UInt64(bitPattern: value), type: type, into: &buffer)
        case .unsigned(let value):
            Self.writeInteger(value, type: type, into: &buffer)
        case .float(let value):
            if type == .double {
                buffer.writeInteger(Double(value).bitPattern, endianness: .little)
            } else {
                buffer.writeInteger(value.bitPattern, endianness: .little)
            }
        case .double(let value):
            if type == .float {
                buffer.writeInteger(Float(value).bitPattern, endianness: .little)
            } else {
                buffer.writeInteger(value.bitPattern, endianness: .little)
            }
        case .dateTime(let value):
            value.write(into: &buffer)
        case .time(let value):
            value.write(into: &buffer)
        case .bytes(let value):
            buffer.writeLengthEncodedBuffer(value)
        }
    }

    private static func writeInteger(_ bits: UInt64, type: ColumnType, into buffer: inout ByteBuffer) {
        switch type {
        case .tiny: buffer.writeInteger(UInt8(truncatingIfNeeded: bits))
        case .short, .year: buffer.writeInteger(UInt16(truncatingIfNeeded: bits), endianness: .little)
        case .long, .int24: buffer.writeInteger(UInt32(truncatingIfNeeded: bits), endianness: .little)
        default: buffer.writeInteger(bits, endianness: .little)
        }
    }

    /// The parameter type a value is sent as, and whether it carries the unsigned flag.
    var parameterType: (type: ColumnType, isUnsigned: Bool) {
        switch self {
        case .null: return (.null, false)
        case .signed: return (.longlong, false)
        case .unsigned: return (.longlong, true)
        case .float: return (.float, false)
        case .double: return (.double, false)
        case .dateTime: return (.datetime, false)
        case .time: return (.time, false)
        case .bytes: return (.string, false)
        }
    }
}
