import MySQLWire
import NIOCore
import XCTest

/// `forwardResultBulk` walks the column definitions and rows of a result straight from the wire;
/// whatever it walks, the machine must end where packet-by-packet interpretation ends.
final class ResultBulkTests: XCTestCase {
    private static let withEOF: CapabilityFlags = [.protocol41, .transactions, .secureConnection, .multiResults, .psMultiResults]
    private let modes = [withEOF, withEOF.union([.deprecateEOF, .sessionTrack])]
    private let query = ComQuery(sql: "SELECT 1").payload(capabilities: [])
    private let execute = ByteBuffer(hex: "17010000000001000000")

    private struct Outcome: Equatable {
        var summary: ResponseSummary?
        /// Packets that went through `backendPacket`.
        var interpreted = 0
    }

    /// Feeds `response` in reads of `readSize` bytes as the backend handler does: the bulk walk
    /// (when on), then one packet through `backendPacket`, until the response completes.
    private func drive(_ command: ByteBuffer, _ response: Response, bulk: Bool, readSize: Int = .max,
                       maximumLength: Int = MySQLPacketDecoder.defaultMaximumLogicalPacketSize, numbered: Bool = true,
                       file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        var machine = CommandResponseStateMachine(capabilities: response.capabilities)
        XCTAssertEqual(try machine.commandSent(command), .response, file: file, line: line)
        var decoder = MySQLPacketDecoder(maximumLogicalPacketSize: maximumLength)
        let wire = response.wire
        var pending = ByteBuffer()
        var outcome = Outcome()
        var offset = 0
        while offset < wire.readableBytes {
            let size = min(readSize, wire.readableBytes - offset)
            pending.writeImmutableBuffer(wire.getSlice(at: offset, length: size)!)
            offset += size
            while true {
                var walkedUpTo: UInt8?
                if bulk, let walked = pending.withUnsafeReadableBytes({ machine.forwardResultBulk($0, maximumLength: maximumLength) }) {
                    pending.moveReaderIndex(forwardBy: walked.count)
                    walkedUpTo = walked.lastSequenceID
                }
                guard let packet = try decoder.decode(buffer: &pending) else { break }
                if let walkedUpTo, numbered {
                    XCTAssertEqual(packet.sequenceID, walkedUpTo &+ 1, "the walk reports its last packet", file: file, line: line)
                }
                outcome.interpreted += 1
                if case .forwardAndComplete(let summary) = try machine.backendPacket(packet) {
                    outcome.summary = summary
                    XCTAssertTrue(machine.isIdle, file: file, line: line)
                    XCTAssertEqual(pending.readableBytes + wire.readableBytes - offset, 0, "bytes after the end", file: file, line: line)
                    return outcome
                }
            }
        }
        return outcome
    }

    private func assertBulkAgrees(_ command: ByteBuffer, _ response: Response, interpreted expected: Int,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try drive(command, response, bulk: false, file: file, line: line)
        XCTAssertNotNil(reference.summary, "the response completes", file: file, line: line)
        XCTAssertEqual(reference.interpreted, response.packets.count, file: file, line: line)
        for readSize in [Int.max, 1, 7, 64] {
            let walked = try drive(command, response, bulk: true, readSize: readSize, file: file, line: line)
            XCTAssertEqual(walked.summary, reference.summary, "read size \(readSize)", file: file, line: line)
            if readSize == .max {
                XCTAssertEqual(walked.interpreted, expected, "packets interpreted one by one", file: file, line: line)
            }
        }
    }

    func testATextResultIsWalkedUpToItsTerminator() throws {
        for mode in modes {
            var response = Response(mode)
            var rows = (0..<100).map { textRow("\($0)", "row") } + [textRow(String(repeating: "x", count: 300), ""), textRow("")]
            if !mode.contains(.deprecateEOF) {
                // Without DEPRECATE_EOF a 0xFE packet of 9 bytes or more is a row, not an EOF.
                rows.append(ByteBuffer(bytes: [0xFE] + Array(repeating: 0x41, count: 11)))
            }
            response.resultSet(columns: 3, rows: rows)
            try assertBulkAgrees(query, response, interpreted: 1)
            XCTAssertEqual(try drive(query, response, bulk: true).summary?.rowCount, UInt64(rows.count))
        }
    }

    func testEveryResultOfAMultiResultIsWalked() throws {
        for mode in modes {
            var response = Response(mode)
            response.resultSet(columns: 2, rows: [textRow("a", "b"), textRow("c", "d")], status: [.autocommit, .moreResultsExist])
            response.resultSet(columns: 1, rows: [textRow("e")], status: [.autocommit, .moreResultsExist])
            response.ok([.autocommit, .inTransaction])
            try assertBulkAgrees(query, response, interpreted: 3)   // the two terminators and the OK
            XCTAssertEqual(try drive(query, response, bulk: true).summary?.statusFlags, [.autocommit, .inTransaction])
        }
    }

    func testAnErrorAmongTheRowsStopsTheWalk() throws {
        for mode in modes {
            var response = Response(mode)
            response.raw(ByteBuffer(bytes: [1]))
            response.definitions(1)
            if !mode.contains(.deprecateEOF) { response.message(EOFPacket(statusFlags: .autocommit)) }
            response.raw(textRow("1"))
            response.err(1317)
            try assertBulkAgrees(query, response, interpreted: 1)
            XCTAssertEqual(try drive(query, response, bulk: true).summary?.error?.errorCode, 1317)
        }
    }

    func testBinaryRowsAreWalkedAndAnythingElseIsLeftToTheMachine() throws {
        var response = Response(Self.withEOF)
        let row = ByteBuffer(bytes: [BinaryRow.header, 0x00, 0x01, 0x41])
        response.resultSet(columns: 1, rows: Array(repeating: row, count: 20))
        try assertBulkAgrees(execute, response, interpreted: 1)

        var bad = Response(Self.withEOF)
        bad.resultSet(columns: 1, rows: [row, ByteBuffer(bytes: [0x07, 0x00])])
        XCTAssertThrowsError(try drive(execute, bad, bulk: true)) { error in
            guard case MySQLWireError.unexpectedPacket = error else { return XCTFail("\(error)") }
        }
    }

    func testAWrongSequenceIDIsLeftToTheMachineToRefuse() throws {
        var response = Response(Self.withEOF)
        response.resultSet(columns: 1, rows: [textRow("a"), textRow("b"), textRow("c")])
        let third = 5   // the column count, its definition and the EOF come first
        response.packets[third] = MySQLPacket(sequenceID: 42, payload: response.packets[third].payload)
        for bulk in [false, true] {
            XCTAssertThrowsError(try drive(query, response, bulk: bulk, numbered: false)) { error in
                XCTAssertEqual(error as? MySQLWireError, .wrongSequenceID(expected: UInt8(third + 1), received: 42))
            }
        }
    }

    func testAPacketOverTheLimitIsLeftToTheDecoderToRefuse() throws {
        var response = Response(Self.withEOF)
        response.resultSet(columns: 1, rows: [textRow("short"), textRow(String(repeating: "y", count: 300))])
        XCTAssertThrowsError(try drive(query, response, bulk: true, maximumLength: 200)) { error in
            guard case MySQLWireError.packetTooLarge = error else { return XCTFail("\(error)") }
        }
    }

    func testACursorOrCachedMetadataIsLeftToTheMachine() throws {
        // COM_STMT_EXECUTE that opens a cursor: the EOF after the definitions ends the response.
        var cursor = Response(Self.withEOF)
        cursor.raw(ByteBuffer(bytes: [1]))
        cursor.definitions(1)
        cursor.message(EOFPacket(statusFlags: [.autocommit, .cursorExists]))
        try assertBulkAgrees(execute, cursor, interpreted: 1)

        // With MariaDB's metadata caching the column count carries a flag: interpreted.
        var cached = Response(Self.withEOF.union(.mariaDBCacheMetadata))
        cached.raw(ByteBuffer(bytes: [1, 1]))
        cached.definitions(1)
        cached.message(EOFPacket(statusFlags: .autocommit))
        cached.raw(textRow("a"))
        cached.terminator()
        try assertBulkAgrees(query, cached, interpreted: 2)
    }

    func testNothingIsWalkedOutsideAResult() throws {
        var machine = CommandResponseStateMachine(capabilities: Self.withEOF)
        var result = Response(Self.withEOF)
        result.raw(ByteBuffer(bytes: [1]))   // a column count
        let count = result.wire
        XCTAssertNil(count.withUnsafeReadableBytes { machine.forwardResultBulk($0, maximumLength: 1 << 30) }, "idle")
        XCTAssertEqual(try machine.commandSent(query), .response)
        var ok = Response(Self.withEOF)
        ok.ok()
        XCTAssertNil(ok.wire.withUnsafeReadableBytes { machine.forwardResultBulk($0, maximumLength: 1 << 30) },
                     "an OK instead of a result is interpreted")
        XCTAssertEqual(count.withUnsafeReadableBytes { machine.forwardResultBulk($0, maximumLength: 1 << 30) }?.count, 5,
                       "a result's column count is walked")
    }
}
