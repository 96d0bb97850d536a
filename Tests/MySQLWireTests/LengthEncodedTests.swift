import MySQLWire
import NIOCore
import XCTest

final class LengthEncodedTests: XCTestCase {
    func testIntegerRoundTripsAtEveryWidthBoundary() {
        let cases: [(UInt64, Int)] = [(0, 1), (250, 1), (251, 3), (0xFFFF, 3), (0x10000, 4), (0xFF_FFFF, 4), (0x100_0000, 9), (.max, 9)]
        for (value, width) in cases {
            var buffer = ByteBuffer()
            buffer.writeLengthEncodedInteger(value)
            XCTAssertEqual(buffer.readableBytes, width, "\(value)")
            XCTAssertEqual(buffer.readLengthEncodedInteger(), value)
            XCTAssertEqual(buffer.readableBytes, 0)
        }
    }

    func testInvalidOrTruncatedIntegersReadNilWithoutMoving() {
        for hex in ["", "fb", "ff", "fc01", "fd0102", "fe01020304050607"] {
            var buffer = ByteBuffer(hex: hex)
            XCTAssertNil(buffer.readLengthEncodedInteger(), hex)
            XCTAssertEqual(buffer.readerIndex, 0, hex)
        }
    }

    func testStringsAndHostileLengths() {
        var buffer = ByteBuffer()
        buffer.writeLengthEncodedString("héllo")
        buffer.writeLengthEncodedBytes([1, 2, 3])
        XCTAssertEqual(buffer.readLengthEncodedString(), "héllo")
        XCTAssertEqual(buffer.readLengthEncodedBytes(), [1, 2, 3])
        XCTAssertNil(buffer.readLengthEncodedSlice())

        // An 8-byte length of 2^63 with 3 bytes behind it: nil, no allocation, nothing consumed.
        var hostile = ByteBuffer(hex: "fe0000000000000080616263")
        XCTAssertNil(hostile.readLengthEncodedSlice())
        XCTAssertEqual(hostile.readerIndex, 0)
        var past = ByteBuffer(hex: "0461626")
        XCTAssertNil(past.readLengthEncodedString())
    }

    func testNullTerminated() {
        var buffer = ByteBuffer()
        buffer.writeNullTerminatedString("abc")
        buffer.writeString("rest")
        XCTAssertEqual(buffer.readNullTerminatedSlice().map { String(buffer: $0) }, "abc")
        XCTAssertNil(buffer.readNullTerminatedSlice())
        XCTAssertEqual(buffer.readRemainingString(), "rest")
    }
}
