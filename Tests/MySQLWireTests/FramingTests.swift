import MySQLWire
import NIOCore
import NIOTestUtils
import XCTest

final class FramingTests: XCTestCase {
    private func wire(_ packets: [MySQLPacket]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for packet in packets { try! MySQLPacketEncoder().encode(data: packet, out: &buffer) }
        return buffer
    }

    func testDecoderPassesVerifier() throws {
        let packets = [
            MySQLPacket(sequenceID: 0, payload: ByteBuffer(hex: "0a35")),
            MySQLPacket(sequenceID: 1, payload: ByteBuffer()),
            MySQLPacket(sequenceID: 2, payload: ByteBuffer(string: String(repeating: "x", count: 300))),
            MySQLPacket(sequenceID: 255, payload: ByteBuffer(hex: "fe00000200")),
        ]
        let pairs = packets.map { (wire([$0]), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: pairs,
            decoderFactory: { MySQLPacketDecoder() }
        )
    }

    func testDecodesCapturedGreetingSliceWithoutCopy() throws {
        var input = wire([MySQLPacket(sequenceID: 0, payload: ByteBuffer(hex: MariaDBVectors.deprecateEOF.greeting))])
        var decoder = MySQLPacketDecoder()
        let packet = try XCTUnwrap(decoder.decode(buffer: &input))
        XCTAssertEqual(packet.payload.hexString, MariaDBVectors.deprecateEOF.greeting)
        XCTAssertEqual(input.readableBytes, 0)
        XCTAssertNil(try decoder.decode(buffer: &input))
    }

    func testSplitsExactMultipleWithEmptyTrailer() {
        let max = MySQLPacket.maximumPayloadLength
        XCTAssertEqual(MySQLPacket.split(payload: ByteBuffer(), firstSequenceID: 3).map(\.payload.readableBytes), [0])
        let exact = ByteBuffer(repeating: 7, count: max)
        let packets = MySQLPacket.split(payload: exact, firstSequenceID: 255)
        XCTAssertEqual(packets.map(\.payload.readableBytes), [max, 0])
        XCTAssertEqual(packets.map(\.sequenceID), [255, 0])
        let longer = MySQLPacket.split(payload: ByteBuffer(repeating: 1, count: 2 * max + 5), firstSequenceID: 0)
        XCTAssertEqual(longer.map(\.payload.readableBytes), [max, max, 5])

        var buffer = ByteBuffer()
        XCTAssertEqual(buffer.writeMySQLPackets(payload: exact, firstSequenceID: 0), 2)
        XCTAssertEqual(buffer.readableBytes, max + 8)
        XCTAssertEqual(buffer.getBytes(at: max + 4, length: 4), [0, 0, 0, 1])
    }

    func testLargePayloadRoundTripsThroughDecoderAndAssembler() throws {
        let payload = ByteBuffer(bytes: (0..<(MySQLPacket.maximumPayloadLength + 1000)).map { UInt8(truncatingIfNeeded: $0) })
        var input = ByteBuffer()
        input.writeMySQLPackets(payload: payload, firstSequenceID: 1)
        var decoder = MySQLPacketDecoder()
        var assembler = MySQLPacketAssembler(expectedSequenceID: 1)
        var logical: [ByteBuffer] = []
        while let packet = try decoder.decode(buffer: &input) {
            if let joined = try assembler.append(packet) { logical.append(joined) }
        }
        XCTAssertEqual(logical, [payload])
        XCTAssertEqual(assembler.expectedSequenceID, 3)
    }

    func testAssemblerRejectsWrongSequenceID() throws {
        var assembler = MySQLPacketAssembler()
        XCTAssertNotNil(try assembler.append(MySQLPacket(sequenceID: 4, payload: ByteBuffer(hex: "01"))))
        XCTAssertThrowsError(try assembler.append(MySQLPacket(sequenceID: 6, payload: ByteBuffer(hex: "01")))) {
            XCTAssertEqual($0 as? MySQLWireError, .wrongSequenceID(expected: 5, received: 6))
        }
        assembler.reset(expectedSequenceID: 0)
        XCTAssertNotNil(try assembler.append(MySQLPacket(sequenceID: 0, payload: ByteBuffer())))
    }

    func testAssemblerLimitsChainLength() throws {
        var assembler = MySQLPacketAssembler(maximumPayloadSize: MySQLPacket.maximumPayloadLength + 10)
        let full = ByteBuffer(repeating: 0, count: MySQLPacket.maximumPayloadLength)
        XCTAssertNil(try assembler.append(MySQLPacket(sequenceID: 0, payload: full)))
        XCTAssertThrowsError(try assembler.append(MySQLPacket(sequenceID: 1, payload: ByteBuffer(repeating: 0, count: 11)))) {
            XCTAssertEqual($0 as? MySQLWireError, .packetTooLarge(size: MySQLPacket.maximumPayloadLength + 11, limit: MySQLPacket.maximumPayloadLength + 10))
        }
    }

    func testDecoderRejectsEndlessChainFromHeadersAlone() throws {
        var decoder = MySQLPacketDecoder(maximumLogicalPacketSize: 2 * MySQLPacket.maximumPayloadLength)
        var input = ByteBuffer()
        for sequenceID in 0..<2 {
            input.writeMySQLPackets(payload: ByteBuffer(repeating: 0, count: MySQLPacket.maximumPayloadLength), firstSequenceID: UInt8(sequenceID))
            input.moveWriterIndex(to: input.writerIndex - 4) // drop the empty trailer: the chain goes on
        }
        XCTAssertNotNil(try decoder.decode(buffer: &input))
        XCTAssertNotNil(try decoder.decode(buffer: &input))
        // Only the header of the third packet: refused before its 16 MiB arrive.
        var header = ByteBuffer(hex: "ffffff02")
        XCTAssertThrowsError(try decoder.decode(buffer: &header)) {
            XCTAssertEqual($0 as? MySQLWireError, .packetTooLarge(size: 3 * MySQLPacket.maximumPayloadLength, limit: 2 * MySQLPacket.maximumPayloadLength))
        }
    }

    func testDecoderWaitsForTruncatedPackets() throws {
        var decoder = MySQLPacketDecoder()
        for hex in ["", "05", "050000", "05000000", "0500000001020304"] {
            var input = ByteBuffer(hex: hex)
            XCTAssertNil(try decoder.decode(buffer: &input), hex)
            XCTAssertEqual(input.readableBytes, hex.count / 2)
        }
    }

    func testDecoderLimitsSinglePacket() {
        var decoder = MySQLPacketDecoder(maximumLogicalPacketSize: 10)
        var input = ByteBuffer(hex: "0b000000")
        XCTAssertThrowsError(try decoder.decode(buffer: &input))
    }

    func testEncoderRejectsOversizedPayload() {
        var out = ByteBuffer()
        let packet = MySQLPacket(sequenceID: 0, payload: ByteBuffer(repeating: 0, count: MySQLPacket.maximumPayloadLength + 1))
        XCTAssertThrowsError(try MySQLPacketEncoder().encode(data: packet, out: &out)) {
            XCTAssertEqual($0 as? MySQLWireError, .physicalPayloadTooLarge(size: MySQLPacket.maximumPayloadLength + 1))
        }
    }
}
