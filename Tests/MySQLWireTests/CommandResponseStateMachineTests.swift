import MySQLWire
import NIOCore
import XCTest

final class CommandResponseStateMachineTests: XCTestCase {
    private static let withEOF: CapabilityFlags = [.protocol41, .transactions, .secureConnection, .multiResults, .psMultiResults]
    private static let deprecateEOF = withEOF.union([.deprecateEOF, .sessionTrack])
    private let modes = [withEOF, deprecateEOF]

    /// Runs a response; every packet but the last must be `.forward`, the last must complete.
    @discardableResult
    private func run(
        _ command: ByteBuffer, _ response: Response, machine: inout CommandResponseStateMachine,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> ResponseSummary {
        XCTAssertEqual(try machine.commandSent(command), .response, file: file, line: line)
        for packet in response.packets.dropLast() {
            XCTAssertEqual(try machine.backendPacket(packet), .forward, file: file, line: line)
        }
        guard case .forwardAndComplete(let summary) = try machine.backendPacket(response.packets.last!) else {
            XCTFail("last packet did not complete the response", file: file, line: line)
            return ResponseSummary()
        }
        XCTAssertTrue(machine.isIdle, file: file, line: line)
        return summary
    }

    private func run(_ command: ByteBuffer, _ response: Response, file: StaticString = #filePath, line: UInt = #line) throws -> ResponseSummary {
        var machine = CommandResponseStateMachine(capabilities: response.capabilities)
        return try run(command, response, machine: &machine, file: file, line: line)
    }

    private let query = ComQuery(sql: "SELECT 1").payload(capabilities: [])
    private let execute = ByteBuffer(hex: "17010000000001000000")

    // MARK: - Commands answered by OK/ERR/EOF

    func testSimpleCommandsEndAtOKErrOrEOF() throws {
        let codes: [CommandCode] = [.sleep, .initDB, .createDB, .dropDB, .refresh, .shutdown, .processKill, .debug, .ping, .time,
                                    .delayedInsert, .connectOut, .registerSlave, .stmtReset, .setOption, .daemon, .resetConnection,
                                    .connect, .tableDump, .clone, CommandCode(rawValue: 0x77)]
        for mode in modes {
            for code in codes {
                let command = ByteBuffer(bytes: [code.rawValue, 1, 0, 0, 0])
                var ok = Response(mode)
                ok.ok([.autocommit, .inTransaction], affectedRows: 3)
                let summary = try run(command, ok)
                XCTAssertEqual(summary.affectedRows, 3)
                XCTAssertTrue(summary.inTransaction)
                var err = Response(mode)
                err.err()
                XCTAssertEqual(try run(command, err).error?.errorCode, 1064, "\(code)")
                var eof = Response(mode)
                eof.terminator()
                XCTAssertNil(try run(command, eof).error)
            }
        }
    }

    func testCommandsWithoutResponse() throws {
        for code in [CommandCode.quit, .stmtClose, .stmtSendLongData] {
            var machine = CommandResponseStateMachine(capabilities: Self.deprecateEOF)
            XCTAssertEqual(try machine.commandSent(ByteBuffer(bytes: [code.rawValue, 1, 0, 0, 0])), .noResponse)
            XCTAssertTrue(machine.isIdle)
            XCTAssertThrowsError(try machine.backendPacket(MySQLPacket(sequenceID: 1, payload: ByteBuffer(hex: "00000002000000"))))
        }
    }

    func testTransactionStateFollowsStatus() throws {
        var machine = CommandResponseStateMachine(capabilities: Self.deprecateEOF)
        XCTAssertFalse(machine.inTransaction)
        var begin = Response(Self.deprecateEOF)
        begin.ok([.autocommit, .inTransaction])
        try run(query, begin, machine: &machine)
        XCTAssertTrue(machine.inTransaction)
        var failing = Response(Self.deprecateEOF)
        failing.err()
        let summary = try run(query, failing, machine: &machine)
        XCTAssertTrue(summary.inTransaction, "an ERR keeps the last known status")
        var rollback = Response(Self.deprecateEOF)
        rollback.ok(.autocommit)
        try run(query, rollback, machine: &machine)
        XCTAssertFalse(machine.inTransaction)
        XCTAssertEqual(machine.statusFlags, .autocommit)
    }

    // MARK: - Result sets

    func testTextResultSetInBothEOFModes() throws {
        for mode in modes {
            var response = Response(mode)
            response.resultSet(columns: 2, rows: [textRow("1", "a"), textRow("2", "b"), ByteBuffer(hex: "fbfb")], status: [.autocommit, .inTransaction])
            let summary = try run(query, response)
            XCTAssertEqual(summary.rowCount, 3)
            XCTAssertEqual(summary.resultSetCount, 1)
            XCTAssertEqual(summary.statusFlags, [.autocommit, .inTransaction])
        }
    }

    func testRowsStartingWithFEAreRows() throws {
        // A text row whose first value has an 8-byte length prefix: 0xFE but at least 9 bytes.
        var withEOF = Response(Self.withEOF)
        var row = ByteBuffer()
        row.writeInteger(UInt8(0xFE))
        row.writeInteger(UInt64(3), endianness: .little)
        row.writeString("abc")
        withEOF.resultSet(columns: 1, rows: [row])
        XCTAssertEqual(try run(query, withEOF).rowCount, 1)

        // With DEPRECATE_EOF only a 16 MiB value gets that prefix: the packet is 0xFFFFFF long.
        var big = ByteBuffer()
        big.writeLengthEncodedBuffer(ByteBuffer(repeating: 0x41, count: 1 << 24))
        XCTAssertEqual(big.getInteger(at: 0, as: UInt8.self), 0xFE)
        var deprecate = Response(Self.deprecateEOF)
        deprecate.resultSet(columns: 1, rows: [big, textRow("x")])
        XCTAssertEqual(try run(query, deprecate).rowCount, 2)
    }

    func testSplitRowsDoNotInterpretContinuationPackets() throws {
        for mode in modes {
            // 17 MiB row whose continuation starts with bytes that look like ERR, EOF and OK.
            for continuationStart: UInt8 in [0xFF, 0xFE, 0x00] {
                var row = ByteBuffer(repeating: 0x61, count: 17 << 20)
                row.setInteger(UInt8(0xFE), at: 0)
                row.setInteger(continuationStart, at: MySQLPacket.maximumPayloadLength)
                var response = Response(mode)
                response.resultSet(columns: 1, rows: [row, textRow("y")])
                XCTAssertEqual(response.packets.filter(\.isContinued).count, 1)
                XCTAssertEqual(try run(query, response).rowCount, 2)
            }
            // A row of exactly 0xFFFFFF bytes is followed by an empty continuation packet.
            var exact = ByteBuffer(repeating: 0x62, count: MySQLPacket.maximumPayloadLength)
            exact.setInteger(UInt8(0xFC), at: 0)
            var response = Response(mode)
            response.resultSet(columns: 1, rows: [exact])
            XCTAssertEqual(try run(query, response).rowCount, 1)
        }
    }

    func testErrorInTheMiddleOfRows() throws {
        for mode in modes {
            var response = Response(mode)
            response.raw(ByteBuffer(hex: "01"))
            response.definitions(1)
            if !mode.contains(.deprecateEOF) { response.message(EOFPacket(statusFlags: .autocommit)) }
            response.raw(textRow("1"))
            response.err(1317)
            let summary = try run(query, response)
            XCTAssertEqual(summary.error?.errorCode, 1317)
            XCTAssertEqual(summary.rowCount, 1)
        }
    }

    func testMultipleResultsAndStoredProcedures() throws {
        for mode in modes {
            let more: ServerStatusFlags = [.autocommit, .moreResultsExist]
            var response = Response(mode)
            response.resultSet(columns: 1, rows: [textRow("1")], status: more)
            response.ok(more, affectedRows: 2)
            response.resultSet(columns: 2, rows: [textRow("2", "3"), textRow("4", "5")], status: more)
            response.ok(.autocommit, affectedRows: 1)
            let summary = try run(query, response)
            XCTAssertEqual(summary.resultSetCount, 2)
            XCTAssertEqual(summary.rowCount, 3)
            XCTAssertEqual(summary.affectedRows, 3)
            XCTAssertEqual(summary.statusFlags, .autocommit)

            var failing = Response(mode)
            failing.resultSet(columns: 1, rows: [], status: more)
            failing.err(1146)
            let failed = try run(query, failing)
            XCTAssertEqual(failed.error?.errorCode, 1146)
            XCTAssertFalse(failed.statusFlags.contains(.moreResultsExist))
        }
    }

    func testSessionStateChangesAreCollected() throws {
        var response = Response(Self.deprecateEOF)
        let status: ServerStatusFlags = [.autocommit, .sessionStateChanged, .moreResultsExist]
        response.message(OKPacket(statusFlags: status, sessionStateChanges: [.schema("a")]))
        response.message(OKPacket(statusFlags: [.autocommit, .sessionStateChanged], sessionStateChanges: [.systemVariable(name: "autocommit", value: "ON"), .transactionState("________")]))
        let summary = try run(query, response)
        XCTAssertEqual(summary.sessionStateChanges, [.schema("a"), .systemVariable(name: "autocommit", value: "ON"), .transactionState("________")])
    }

    func testMariaDBCachedMetadataSkipsDefinitions() throws {
        for mode in modes {
            let capabilities = mode.union(.mariaDBCacheMetadata)
            var response = Response(capabilities)
            response.hex("0200") // two columns, metadata not sent
            if !mode.contains(.deprecateEOF) { response.message(EOFPacket(statusFlags: .autocommit)) }
            response.raw(ByteBuffer(hex: "000001000000"))
            response.terminator()
            XCTAssertEqual(try run(execute, response).rowCount, 1)

            var withMetadata = Response(capabilities)
            withMetadata.hex("0101")
            withMetadata.definitions(1)
            if !mode.contains(.deprecateEOF) { withMetadata.message(EOFPacket(statusFlags: .autocommit)) }
            withMetadata.terminator()
            XCTAssertEqual(try run(query, withMetadata).resultSetCount, 1)
        }
    }

    func testMariaDBProgressReportsDoNotEndTheResponse() throws {
        let capabilities = Self.deprecateEOF.union(.mariaDBProgress)
        var response = Response(capabilities)
        response.message(ERRPacket(errorCode: ERRPacket.progressReportCode, sqlState: nil, message: "\u{1}\u{1}\u{2}"))
        response.ok()
        XCTAssertNil(try run(query, response).error)
    }

    // MARK: - Prepared statements

    func testPrepareWithEveryShape() throws {
        for mode in modes {
            for (parameters, columns) in [(0, 0), (2, 0), (0, 3), (2, 3)] {
                var response = Response(mode)
                response.message(ComStmtPrepareOK(statementID: 5, columnCount: UInt16(columns), parameterCount: UInt16(parameters)))
                for count in [parameters, columns] where count > 0 {
                    response.definitions(count)
                    if !mode.contains(.deprecateEOF) { response.message(EOFPacket(statusFlags: .autocommit)) }
                }
                let summary = try run(ComStmtPrepare(sql: "SELECT ?").payload(capabilities: []), response)
                XCTAssertEqual(summary.preparedStatement, ComStmtPrepareOK(statementID: 5, columnCount: UInt16(columns), parameterCount: UInt16(parameters)))
            }
            var failing = Response(mode)
            failing.err()
            XCTAssertNotNil(try run(ComStmtPrepare(sql: "x").payload(capabilities: []), failing).error)
        }
    }

    func testExecuteFetchAndCursors() throws {
        for mode in modes {
            var rows = Response(mode)
            rows.resultSet(columns: 1, rows: [ByteBuffer(hex: "000001"), ByteBuffer(hex: "000004")])
            XCTAssertEqual(try run(execute, rows).rowCount, 2)

            var ok = Response(mode)
            ok.ok(.autocommit, affectedRows: 1)
            XCTAssertEqual(try run(execute, ok).affectedRows, 1)

            // A cursor: definitions, then one EOF (or 0xFE OK) with CURSOR_EXISTS; rows come with fetch.
            var cursor = Response(mode)
            cursor.raw(ByteBuffer(hex: "01"))
            cursor.definitions(1)
            cursor.terminator([.autocommit, .cursorExists])
            XCTAssertTrue(try run(execute, cursor).statusFlags.contains(.cursorExists))

            var fetch = Response(mode)
            fetch.raw(ByteBuffer(hex: "000001"))
            fetch.terminator([.autocommit, .lastRowSent])
            let fetched = try run(ComStmtFetch(statementID: 1, rowCount: 10).payload(capabilities: []), fetch)
            XCTAssertEqual(fetched.rowCount, 1)
            XCTAssertTrue(fetched.statusFlags.contains(.lastRowSent))
        }
    }

    func testBinaryRowsMustStartWithZero() throws {
        var response = Response(Self.deprecateEOF)
        response.raw(ByteBuffer(hex: "01"))
        response.definitions(1)
        response.raw(textRow("1"))
        var machine = CommandResponseStateMachine(capabilities: Self.deprecateEOF)
        _ = try machine.commandSent(execute)
        XCTAssertEqual(try machine.backendPacket(response.packets[0]), .forward)
        XCTAssertEqual(try machine.backendPacket(response.packets[1]), .forward)
        XCTAssertThrowsError(try machine.backendPacket(response.packets[2]))
    }

    // MARK: - Other response shapes

    func testFieldListAndStatistics() throws {
        for mode in modes {
            var fields = Response(mode)
            fields.definitions(2)
            fields.terminator()
            XCTAssertNil(try run(ComFieldList(table: "t").payload(capabilities: []), fields).error)

            var statistics = Response(mode)
            statistics.raw(ByteBuffer(string: "Uptime: 1  Threads: 1"))
            XCTAssertNil(try run(ByteBuffer(hex: "09"), statistics).error)
        }
    }

    func testLocalInfile() throws {
        for mode in modes {
            var machine = CommandResponseStateMachine(capabilities: mode.union(.localFiles))
            XCTAssertEqual(try machine.commandSent(query), .response)
            XCTAssertEqual(try machine.backendPacket(MySQLPacket(sequenceID: 1, payload: LocalInfileRequest(filename: "f").payload(capabilities: []))), .needClientData)
            XCTAssertThrowsError(try machine.backendPacket(MySQLPacket(sequenceID: 2, payload: ByteBuffer(hex: "00")))) // the client's turn
            var machineCopy = machine
            XCTAssertEqual(try machineCopy.clientPacket(MySQLPacket(sequenceID: 2, payload: ByteBuffer(string: "1,a\n"))), .forward)
            // A 0xFFFFFF chunk's empty continuation is not the end of the file.
            XCTAssertEqual(try machine.clientPacket(MySQLPacket(sequenceID: 2, payload: ByteBuffer(repeating: 0x31, count: MySQLPacket.maximumPayloadLength))), .forward)
            XCTAssertEqual(try machine.clientPacket(MySQLPacket(sequenceID: 3, payload: ByteBuffer())), .forward)
            XCTAssertEqual(try machine.clientPacket(MySQLPacket(sequenceID: 4, payload: ByteBuffer())), .forwardAndAwaitResponse)
            var ok = Response(mode)
            ok.ok(affectedRows: 7)
            guard case .forwardAndComplete(let summary) = try machine.backendPacket(MySQLPacket(sequenceID: 5, payload: ok.packets[0].payload)) else {
                return XCTFail("no completion")
            }
            XCTAssertEqual(summary.affectedRows, 7)
        }
    }

    func testChangeUserAuthenticationExchanges() throws {
        let capabilities = Self.deprecateEOF
        let changeUser = ComChangeUser(username: "u", authResponse: []).payload(capabilities: capabilities)
        let switchRequest = AuthSwitchRequest(pluginName: NativePassword.pluginName, pluginData: Array(1...20)).payload(capabilities: [])
        let ok = OKPacket(statusFlags: .autocommit).payload(capabilities: capabilities)
        let err = ERRPacket(errorCode: 1045, sqlState: "28000", message: "denied").payload(capabilities: capabilities)

        var direct = CommandResponseStateMachine(capabilities: capabilities)
        XCTAssertEqual(try direct.commandSent(changeUser), .authentication)
        guard case .forwardAndComplete = try direct.backendPacket(MySQLPacket(sequenceID: 1, payload: ok)) else { return XCTFail() }

        var switched = CommandResponseStateMachine(capabilities: capabilities)
        _ = try switched.commandSent(changeUser)
        XCTAssertEqual(try switched.backendPacket(MySQLPacket(sequenceID: 1, payload: switchRequest)), .needClientData)
        XCTAssertEqual(try switched.clientPacket(MySQLPacket(sequenceID: 2, payload: ByteBuffer(repeating: 1, count: 20))), .forwardAndAwaitResponse)
        guard case .forwardAndComplete(let denied) = try switched.backendPacket(MySQLPacket(sequenceID: 3, payload: err)) else { return XCTFail() }
        XCTAssertEqual(denied.error?.errorCode, 1045)

        var fast = CommandResponseStateMachine(capabilities: capabilities)
        _ = try fast.commandSent(changeUser)
        XCTAssertEqual(try fast.backendPacket(MySQLPacket(sequenceID: 1, payload: ByteBuffer(hex: "0103"))), .forward)
        guard case .forwardAndComplete = try fast.backendPacket(MySQLPacket(sequenceID: 2, payload: ok)) else { return XCTFail() }

        var full = CommandResponseStateMachine(capabilities: capabilities)
        _ = try full.commandSent(changeUser)
        XCTAssertEqual(try full.backendPacket(MySQLPacket(sequenceID: 1, payload: ByteBuffer(hex: "0104"))), .needClientData)
        XCTAssertEqual(try full.clientPacket(MySQLPacket(sequenceID: 2, payload: ByteBuffer(string: "pw\0"))), .forwardAndAwaitResponse)
        guard case .forwardAndComplete = try full.backendPacket(MySQLPacket(sequenceID: 3, payload: ok)) else { return XCTFail() }

        var hostile = CommandResponseStateMachine(capabilities: capabilities)
        _ = try hostile.commandSent(changeUser)
        XCTAssertThrowsError(try hostile.backendPacket(MySQLPacket(sequenceID: 1, payload: ByteBuffer(hex: "05"))))
    }

    func testBinlogDumpStreamsEventsUntilEOF() throws {
        for mode in modes {
            var response = Response(mode)
            response.hex("00010203")
            response.hex("00040506")
            response.terminator()
            XCTAssertNil(try run(ByteBuffer(hex: "12"), response).error)
        }
    }

    func testSplitTerminatorCompletesAtItsLastPart() throws {
        var response = Response(Self.withEOF)
        var ok = OKPacket(statusFlags: .autocommit).payload(capabilities: Self.withEOF)
        ok.writeString(String(repeating: "i", count: MySQLPacket.maximumPayloadLength - ok.readableBytes))
        response.raw(ok)
        XCTAssertEqual(response.packets.count, 2)
        XCTAssertNil(try run(ByteBuffer(hex: "0e"), response).error)
    }

    // MARK: - Hostile sequences

    func testHostileSequencesThrow() throws {
        func machine(_ command: ByteBuffer? = nil) throws -> CommandResponseStateMachine {
            var machine = CommandResponseStateMachine(capabilities: Self.withEOF)
            if let command { _ = try machine.commandSent(command) }
            return machine
        }
        func packet(_ hex: String, _ sequenceID: UInt8 = 1) -> MySQLPacket { MySQLPacket(sequenceID: sequenceID, payload: ByteBuffer(hex: hex)) }

        var idle = try machine()
        XCTAssertThrowsError(try idle.backendPacket(packet("00000002000000")))
        XCTAssertThrowsError(try idle.clientPacket(packet("")))
        XCTAssertThrowsError(try idle.commandSent(ByteBuffer()))

        var busy = try machine(query)
        XCTAssertThrowsError(try busy.commandSent(query)) { XCTAssertEqual($0 as? MySQLWireError, .commandWhileResponsePending) }

        var sequence = try machine(query)
        XCTAssertEqual(try sequence.backendPacket(packet("01", 1)), .forward)
        XCTAssertThrowsError(try sequence.backendPacket(packet("01", 3))) {
            XCTAssertEqual($0 as? MySQLWireError, .wrongSequenceID(expected: 2, received: 3))
        }

        for badStart in ["", "fb", "fe0000000000000001", "fc0000", "fd000001"] {
            var binary = try machine(execute)
            XCTAssertThrowsError(try binary.backendPacket(packet(badStart)), badStart)
        }
        var missingEOF = try machine(query)
        _ = try missingEOF.backendPacket(packet("01", 1))
        _ = try missingEOF.backendPacket(MySQLPacket(sequenceID: 2, payload: ColumnDefinition41(name: "a", type: .long).payload(capabilities: [])))
        XCTAssertThrowsError(try missingEOF.backendPacket(packet("0131", 3)))

        for truncated in ["00", "0001", "ff", "ff01"] {
            var simple = try machine(ByteBuffer(hex: "0e"))
            XCTAssertThrowsError(try simple.backendPacket(packet(truncated)), truncated)
        }
        var prepare = try machine(ComStmtPrepare(sql: "x").payload(capabilities: []))
        XCTAssertThrowsError(try prepare.backendPacket(packet("0001")))
        var weird = try machine(ByteBuffer(hex: "0e"))
        XCTAssertThrowsError(try weird.backendPacket(packet("0a")))
    }
}
