import MySQLWire
import NIOCore
import XCTest

/// Reads cut anywhere: the decoder plus a PacketRemainder must yield the packets as sent.
final class PacketRemainderTests: XCTestCase {
    private let packets = [
        MySQLPacket(sequenceID: 0, payload: ByteBuffer(string: "SELECT 1")),
        MySQLPacket(sequenceID: 1, payload: ByteBuffer()),
        MySQLPacket(sequenceID: 2, payload: ByteBuffer(string: String(repeating: "y", count: 5_000))),
        MySQLPacket(sequenceID: 3, payload: ByteBuffer(string: "z")),
    ]

    private var wire: ByteBuffer {
        var buffer = ByteBuffer()
        for packet in packets { try! MySQLPacketEncoder().encode(data: packet, out: &buffer) }
        return buffer
    }

    /// Feeds `reads` one after another, as a handler does, and returns the payloads decoded.
    private func decode(_ reads: [ByteBuffer]) throws -> (payloads: [String], remainderEmpty: Bool) {
        var decoder = MySQLPacketDecoder()
        var remainder = PacketRemainder()
        var payloads: [String] = []
        for read in reads {
            var buffer = remainder.joined(with: read)
            while let packet = try decoder.decode(buffer: &buffer) {
                payloads.append(String(buffer: packet.payload))
            }
            remainder.keep(buffer, allocator: ByteBufferAllocator())
        }
        return (payloads, remainder.isEmpty)
    }

    func testEveryTwoWaySplit() throws {
        let all = wire
        let expected = packets.map { String(buffer: $0.payload) }
        for cut in stride(from: 0, through: all.readableBytes, by: 7) {
            let reads = [all.getSlice(at: 0, length: cut)!, all.getSlice(at: cut, length: all.readableBytes - cut)!]
            let (payloads, empty) = try decode(reads)
            XCTAssertEqual(payloads, expected, "cut at \(cut)")
            XCTAssertTrue(empty)
        }
    }

    func testALargePacketInManySmallReads() throws {
        let all = wire
        var reads: [ByteBuffer] = []
        var offset = 0
        while offset < all.readableBytes {
            let length = min(61, all.readableBytes - offset)
            reads.append(all.getSlice(at: offset, length: length)!)
            offset += length
        }
        let (payloads, empty) = try decode(reads)
        XCTAssertEqual(payloads, packets.map { String(buffer: $0.payload) })
        XCTAssertTrue(empty)
    }

    func testAnUnfinishedPacketStaysKept() throws {
        let all = wire
        let (payloads, empty) = try decode([all.getSlice(at: 0, length: all.readableBytes - 1)!])
        XCTAssertEqual(payloads.count, packets.count - 1)
        XCTAssertFalse(empty, "the last packet's bytes wait for its last byte")
    }
}
