import MySQLWire
import NIOCore
import XCTest

/// Real packets captured from MariaDB 10.11 (MariaDBVectors.swift).
final class MariaDBVectorTests: XCTestCase {
    private let sessions = [MariaDBVectors.deprecateEOF, MariaDBVectors.withEOF]

    func testGreeting() throws {
        let greeting = try assertReencodes(HandshakeV10.self, hex: ByteBuffer(hex: MariaDBVectors.deprecateEOF.greeting), capabilities: [])
        XCTAssertEqual(greeting.serverVersion, "5.5.5-10.11.19-MariaDB-0+deb12u1")
        XCTAssertEqual(greeting.authPluginData.count, 20)
        XCTAssertEqual(greeting.authPluginName, NativePassword.pluginName)
        // MariaDB clears CLIENT_MYSQL and sends its extended capabilities in the reserved bytes.
        XCTAssertFalse(greeting.capabilities.contains(.clientMySQL))
        XCTAssertTrue(greeting.capabilities.isSuperset(of: [.mariaDBProgress, .mariaDBStmtBulkOperations, .mariaDBExtendedTypeInfo, .mariaDBCacheMetadata]))
        XCTAssertTrue(greeting.capabilities.isSuperset(of: [.protocol41, .deprecateEOF, .sessionTrack, .pluginAuth]))
        XCTAssertEqual(greeting.statusFlags, .autocommit)
    }

    func testHandshakeResponseAndItsScramble() throws {
        for session in sessions {
            let greeting = try HandshakeV10(payload: ByteBuffer(hex: session.greeting), capabilities: [])
            let response = try assertReencodes(HandshakeResponse41.self, hex: ByteBuffer(hex: session.handshakeResponse), capabilities: [])
            XCTAssertEqual(response.username, "wire")
            XCTAssertEqual(response.database, "wiretest")
            XCTAssertEqual(response.attributes, [ConnectAttribute(key: "_client_name", value: "wire")])
            XCTAssertEqual(response.authResponse, NativePassword.scramble(password: "pw", nonce: greeting.authPluginData))
            let stage1 = NativePassword.verify(response: response.authResponse, nonce: greeting.authPluginData, storedHash: NativePassword.storedHash(password: "pw"))
            XCTAssertEqual(stage1, Array(ByteBuffer(hex: "1a91d62f7ca67399625a4368a6ab5d4a3baa6073").readableBytesView))
        }
    }

    func testLoginOKWithSessionState() throws {
        let session = MariaDBVectors.deprecateEOF
        let ok = try assertReencodes(OKPacket.self, hex: ByteBuffer(hex: session.login[0].1), capabilities: session.flags)
        XCTAssertEqual(ok.sessionStateChanges, [.schema("wiretest")])
        let use = try assertReencodes(OKPacket.self, hex: session.payload("useSchema", 0), capabilities: session.flags)
        XCTAssertEqual(use.sessionStateChanges, [.schema("mysql")])
        XCTAssertTrue(use.statusFlags.contains(.sessionStateChanged))
    }

    func testErrorAndResultSetPackets() throws {
        for session in sessions {
            let err = try assertReencodes(ERRPacket.self, hex: session.payload("error", 0), capabilities: session.flags)
            XCTAssertEqual(err.errorCode, 1146)
            XCTAssertEqual(err.sqlState, "42S02")
            XCTAssertEqual(err.message, "Table 'wiretest.nope' doesn't exist")

            let definitions = try (1...4).map { try assertReencodes(ColumnDefinition41.self, hex: session.payload("selectMixed", $0), capabilities: [.protocol41]) }
            XCTAssertEqual(definitions.map(\.name), ["a", "b", "c", "d"])
            XCTAssertEqual(definitions.map(\.type), [.long, .null, .varString, .newdecimal])
            XCTAssertEqual(definitions[2].characterSet, UInt16(CharacterSetID.utf8mb4GeneralCI))
            let rowIndex = session.flags.contains(.deprecateEOF) ? 5 : 6
            var rowPayload = session.payload("selectMixed", rowIndex)
            let row = try TextRow(from: &rowPayload, columnCount: 4)
            XCTAssertEqual(row.values.map { $0.map { String(buffer: $0) } }, ["1", nil, "x", "-2.5"])
        }
        let eof = try assertReencodes(EOFPacket.self, hex: MariaDBVectors.withEOF.payload("multi", 2), capabilities: [.protocol41])
        // The capture ran `SET sql_mode='ANSI'` earlier: MariaDB reports ANSI_QUOTES in the status.
        XCTAssertEqual(eof.statusFlags, [.autocommit, .moreResultsExist, .ansiQuotes])
        let terminator = try assertReencodes(OKPacket.self, hex: MariaDBVectors.deprecateEOF.payload("selectMixed", 6), capabilities: MariaDBVectors.deprecateEOF.flags)
        XCTAssertTrue(terminator.isEOFReplacement)
    }

    func testPreparedStatementPackets() throws {
        for session in sessions {
            let prepared = try assertReencodes(ComStmtPrepareOK.self, hex: session.payload("prepare", 0), capabilities: [])
            XCTAssertEqual(prepared.columnCount, 3)
            XCTAssertEqual(prepared.parameterCount, 1)
            let execute = session.exchanges["execute"]!
            let columns = try execute.packets[1...3].map { try ColumnDefinition41(payload: ByteBuffer(hex: $0.1), capabilities: []) }
            let rowIndex = session.flags.contains(.deprecateEOF) ? 4 : 5
            var rowPayload = session.payload("execute", rowIndex)
            let row = try BinaryRow(from: &rowPayload, columns: columns)
            XCTAssertEqual(row.values, [
                .signed(42), .bytes(ByteBuffer(string: "a")),
                .dateTime(MySQLDateTime(year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5, microsecond: 600_000)),
            ])
            var reencoded = ByteBuffer()
            row.write(into: &reencoded, columns: columns)
            XCTAssertEqual(reencoded.hexString, session.payload("execute", rowIndex).hexString)
        }
    }

    func testLocalInfileRequest() throws {
        let request = try assertReencodes(LocalInfileRequest.self, hex: MariaDBVectors.deprecateEOF.payload("localInfile", 0), capabilities: [])
        XCTAssertEqual(request.filename, "/tmp/x.csv")
    }

    /// Every captured exchange ends exactly at its last packet, with the right summary.
    func testStateMachineFollowsEveryCapturedExchange() throws {
        for session in sessions {
            var summaries: [String: ResponseSummary] = [:]
            for (name, exchange) in session.exchanges {
                var machine = CommandResponseStateMachine(capabilities: session.flags)
                XCTAssertEqual(try machine.commandSent(exchange.commandPayload), .response, name)
                for (index, packet) in exchange.mysqlPackets.enumerated() {
                    let action = try machine.backendPacket(packet)
                    if index < exchange.packets.count - 1 {
                        XCTAssertEqual(action, .forward, "\(name) packet \(index)")
                    } else if name == "localInfile" {
                        XCTAssertEqual(action, .needClientData)
                        XCTAssertEqual(try machine.clientPacket(MySQLPacket(sequenceID: 2, payload: ByteBuffer())), .forwardAndAwaitResponse)
                        let end = MySQLPacket(sequenceID: session.localInfileEnd[0].0, payload: ByteBuffer(hex: session.localInfileEnd[0].1))
                        guard case .forwardAndComplete(let summary) = try machine.backendPacket(end) else { return XCTFail(name) }
                        summaries[name] = summary
                    } else {
                        guard case .forwardAndComplete(let summary) = action else { return XCTFail("\(name) did not complete: \(action)") }
                        summaries[name] = summary
                    }
                }
                XCTAssertTrue(machine.isIdle, name)
            }
            XCTAssertEqual(summaries["selectMixed"]?.rowCount, 1)
            XCTAssertEqual(summaries["error"]?.error?.errorCode, 1146)
            XCTAssertEqual(summaries["begin"]?.inTransaction, true)
            XCTAssertEqual(summaries["insert"]?.affectedRows, 1)
            XCTAssertEqual(summaries["insert"]?.inTransaction, true)
            XCTAssertEqual(summaries["rollback"]?.inTransaction, false)
            XCTAssertEqual(summaries["multi"]?.resultSetCount, 2)
            XCTAssertEqual(summaries["multi"]?.rowCount, 2)
            XCTAssertEqual(summaries["multiErr"]?.error?.errorCode, 1146)
            XCTAssertEqual(summaries["multiErr"]?.statusFlags.contains(.moreResultsExist), false)
            XCTAssertEqual(summaries["callProc"]?.resultSetCount, 2)
            XCTAssertEqual(summaries["emptySelect"]?.rowCount, 0)
            XCTAssertEqual(summaries["prepare"]?.preparedStatement?.parameterCount, 1)
            XCTAssertEqual(summaries["prepareNoParams"]?.preparedStatement?.columnCount, 0)
            XCTAssertNotNil(summaries["prepareErr"]?.error)
            XCTAssertEqual(summaries["execute"]?.rowCount, 1)
            XCTAssertEqual(summaries["executeCursor"]?.statusFlags.contains(.cursorExists), true)
            XCTAssertEqual(summaries["fetch"]?.statusFlags.contains(.lastRowSent), true)
            XCTAssertEqual(summaries["fetch"]?.rowCount, 1)
            XCTAssertEqual(summaries["localInfile"]?.info.hasPrefix("Records: 0"), true)
            if session.flags.contains(.sessionTrack) {
                XCTAssertEqual(summaries["useSchema"]?.sessionStateChanges, [.schema("mysql")])
                XCTAssertEqual(summaries["initDB"]?.sessionStateChanges, [.schema("wiretest")])
            }
        }
    }
}
