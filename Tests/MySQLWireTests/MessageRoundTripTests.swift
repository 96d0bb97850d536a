import MySQLWire
import NIOCore
import XCTest

final class MessageRoundTripTests: XCTestCase {
    private let nonce: [UInt8] = Array(1...20)
    private let capabilitySets: [CapabilityFlags] = [
        .modernClient,
        CapabilityFlags.modernClient.subtracting([.pluginAuthLenencClientData, .sessionTrack, .deprecateEOF]),
        [.protocol41, .secureConnection],
        CapabilityFlags.modernClient.subtracting(.clientMySQL).union([.mariaDBExtendedTypeInfo, .mariaDBCacheMetadata]),
    ]

    func testHandshakeV10() throws {
        for mysql in [true, false] {
            var capabilities: CapabilityFlags = [.protocol41, .secureConnection, .pluginAuth, .connectAttrs, .sessionTrack, .deprecateEOF]
            if mysql { capabilities.insert(.clientMySQL) } else { capabilities.formUnion([.mariaDBProgress, .mariaDBStmtBulkOperations, .mariaDBCacheMetadata]) }
            let greeting = HandshakeV10(
                serverVersion: "5.5.5-10.11.19-MariaDB", connectionID: 42, authPluginData: nonce, capabilities: capabilities,
                characterSet: CharacterSetID.utf8mb4GeneralCI, statusFlags: .autocommit, authPluginName: NativePassword.pluginName
            )
            try assertRoundTrip(greeting, capabilities: [])
        }
    }

    func testHandshakeResponse41InAllAuthEncodings() throws {
        let encodings: [CapabilityFlags] = [[.pluginAuthLenencClientData, .secureConnection], [.secureConnection], []]
        for encoding in encodings {
            for extra: CapabilityFlags in [[], [.connectWithDB, .pluginAuth, .connectAttrs]] {
                let response = HandshakeResponse41(
                    capabilities: encoding.union(extra).union(.protocol41), username: "wire",
                    authResponse: encoding.isEmpty ? Array("clear".utf8) : NativePassword.scramble(password: "pw", nonce: nonce),
                    database: extra.isEmpty ? nil : "db", authPluginName: extra.isEmpty ? nil : NativePassword.pluginName,
                    attributes: extra.isEmpty ? [] : [ConnectAttribute(key: "_client_name", value: "wire"), ConnectAttribute(key: "_pid", value: "1")]
                )
                try assertRoundTrip(response, capabilities: [])
            }
        }
        // MariaDB clients put their extended capabilities in the filler when CLIENT_MYSQL is off.
        let mariaDB = HandshakeResponse41(capabilities: [.protocol41, .secureConnection, .mariaDBProgress, .mariaDBCacheMetadata], username: "u", authResponse: [])
        try assertRoundTrip(mariaDB, capabilities: [])
    }

    func testSSLRequestIsRecognised() throws {
        let request = SSLRequest(capabilities: [.protocol41, .ssl, .secureConnection], maxPacketSize: 1 << 24, characterSet: 45)
        try assertRoundTrip(request, capabilities: [])
        XCTAssertTrue(SSLRequest.matches(request.payload(capabilities: [])))
        let full = HandshakeResponse41(capabilities: [.protocol41, .ssl, .secureConnection], username: "u", authResponse: [])
        XCTAssertFalse(SSLRequest.matches(full.payload(capabilities: [])))
        XCTAssertFalse(SSLRequest.matches(SSLRequest(capabilities: [.protocol41], maxPacketSize: 0, characterSet: 45).payload(capabilities: [])))
    }

    func testServerPackets() throws {
        for capabilities in capabilitySets {
            try assertRoundTrip(OKPacket(affectedRows: 300, lastInsertID: 1 << 40, statusFlags: [.autocommit, .inTransaction], warnings: 2, info: "Rows matched: 1"), capabilities: capabilities)
            try assertRoundTrip(OKPacket(statusFlags: .autocommit, isEOFReplacement: true), capabilities: capabilities)
            try assertRoundTrip(ERRPacket(errorCode: 1146, sqlState: "42S02", message: "Table 'x' doesn't exist"), capabilities: capabilities)
            try assertRoundTrip(EOFPacket(warnings: 1, statusFlags: [.moreResultsExist, .autocommit]), capabilities: capabilities)
            try assertRoundTrip(ColumnDefinition41(schema: "s", table: "t", orgTable: "tt", name: "c", orgName: "cc", extendedTypeInfo: capabilities.contains(.mariaDBExtendedTypeInfo) ? ByteBuffer(hex: "000474657374") : nil, characterSet: 45, columnLength: 80, type: .varString, flags: [.notNull, .primaryKey], decimals: 0), capabilities: capabilities)
        }
        try assertRoundTrip(ERRPacket(errorCode: 1040, sqlState: nil, message: "Too many connections"), capabilities: [])
        try assertRoundTrip(AuthSwitchRequest(pluginName: NativePassword.pluginName, pluginData: nonce), capabilities: [])
        try assertRoundTrip(AuthMoreData(data: [CachingSHA2Password.fastAuthSuccess]), capabilities: [])
        try assertRoundTrip(LocalInfileRequest(filename: "/tmp/data.csv"), capabilities: [])
        try assertRoundTrip(ComStmtPrepareOK(statementID: 7, columnCount: 3, parameterCount: 2, warnings: 1), capabilities: [])
    }

    func testOKPacketWithEverySessionStateChange() throws {
        let changes: [SessionStateChange] = [
            .systemVariable(name: "autocommit", value: "OFF"), .schema("wiretest"), .stateChange(true),
            .gtids(encoding: 0, "0-1-5"), .transactionCharacteristics("START TRANSACTION;"), .transactionState("T_______"),
            .unknown(type: 200, data: ByteBuffer(hex: "0102")),
        ]
        let ok = OKPacket(statusFlags: [.autocommit, .sessionStateChanged], sessionStateChanges: changes)
        try assertRoundTrip(ok, capabilities: .modernClient)
        // Without SESSION_TRACK the block is not sent.
        let untracked = try OKPacket(payload: ok.payload(capabilities: [.protocol41]), capabilities: [.protocol41])
        XCTAssertEqual(untracked.sessionStateChanges, [])
    }

    func testERRWithoutSQLStateMarkerUnderProtocol41() throws {
        let err = try ERRPacket(payload: ByteBuffer(hex: "ff1004546f6f206d616e79"), capabilities: .modernClient)
        XCTAssertEqual(err, ERRPacket(errorCode: 1040, sqlState: nil, message: "Too many"))
    }

    func testCommands() throws {
        for capabilities in capabilitySets {
            try assertRoundTrip(ComChangeUser(username: "wire", authResponse: Array(1...20), schema: "db", authPluginName: capabilities.contains(.pluginAuth) ? NativePassword.pluginName : nil, attributes: capabilities.contains(.connectAttrs) ? [ConnectAttribute(key: "k", value: "v")] : []), capabilities: capabilities)
        }
        try assertRoundTrip(ComQuery(sql: "SELECT 1"), capabilities: [])
        try assertRoundTrip(ComStmtPrepare(sql: "SELECT ?"), capabilities: [])
        try assertRoundTrip(ComInitDB(schema: "wiretest"), capabilities: [])
        try assertRoundTrip(ComStmtClose(statementID: 9), capabilities: [])
        try assertRoundTrip(ComStmtReset(statementID: 9), capabilities: [])
        try assertRoundTrip(ComStmtFetch(statementID: 9, rowCount: 100), capabilities: [])
        try assertRoundTrip(ComStmtSendLongData(statementID: 9, parameterID: 1, data: ByteBuffer(string: "chunk")), capabilities: [])
        try assertRoundTrip(ComSetOption(option: .multiStatementsOff), capabilities: [])
        try assertRoundTrip(ComFieldList(table: "t", wildcard: "i%"), capabilities: [])
    }

    func testComStmtExecuteWithEveryParameterKind() throws {
        let parameters: [MySQLBinaryValue] = [
            .null, .signed(-5), .unsigned(.max), .float(1.5), .double(-2.25),
            .dateTime(MySQLDateTime(year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5, microsecond: 6)),
            .time(MySQLTime(isNegative: true, days: 1, hours: 2, minutes: 3, seconds: 4)), .bytes(ByteBuffer(string: "text")),
        ]
        let execute = ComStmtExecute(statementID: 3, flags: .readOnly, parameters: parameters)
        var buffer = ByteBuffer()
        execute.write(into: &buffer)
        var reading = buffer
        XCTAssertEqual(try ComStmtExecute(from: &reading, parameterCount: parameters.count), execute)
        XCTAssertEqual(reading.readableBytes, 0)

        let rebound = ComStmtExecute(statementID: 3, parameters: parameters, sendsTypes: false)
        var again = ByteBuffer()
        rebound.write(into: &again)
        var copy = again
        XCTAssertThrowsError(try ComStmtExecute(from: &copy, parameterCount: parameters.count))
        XCTAssertEqual(try ComStmtExecute(from: &again, parameterCount: parameters.count, previousTypes: execute.parameterTypes), rebound)

        var header = buffer
        XCTAssertEqual(try ComStmtExecute.Header(from: &header), ComStmtExecute.Header(statementID: 3, flags: .readOnly))
    }

    func testMySQLCommandRecognisesEveryCommand() throws {
        let capabilities = CapabilityFlags.modernClient
        let changeUser = ComChangeUser(username: "u", authResponse: [], authPluginName: NativePassword.pluginName)
        let cases: [(ByteBuffer, MySQLCommand)] = [
            (ByteBuffer(hex: "01"), .quit),
            (ComInitDB(schema: "d").payload(capabilities: capabilities), .initDB(ComInitDB(schema: "d"))),
            (ComQuery(sql: "DO 1").payload(capabilities: capabilities), .query(ComQuery(sql: "DO 1"))),
            (ComFieldList(table: "t").payload(capabilities: capabilities), .fieldList(ComFieldList(table: "t"))),
            (ByteBuffer(hex: "09"), .statistics),
            (ByteBuffer(hex: "0e"), .ping),
            (changeUser.payload(capabilities: capabilities), .changeUser(changeUser)),
            (ByteBuffer(hex: "1f"), .resetConnection),
            (ComSetOption(option: .multiStatementsOn).payload(capabilities: capabilities), .setOption(ComSetOption(option: .multiStatementsOn))),
            (ComStmtPrepare(sql: "DO ?").payload(capabilities: capabilities), .stmtPrepare(ComStmtPrepare(sql: "DO ?"))),
            (ByteBuffer(hex: "17010000000001000000"), .stmtExecute(ComStmtExecute.Header(statementID: 1))),
            (ComStmtSendLongData(statementID: 1, parameterID: 0, data: ByteBuffer()).payload(capabilities: capabilities), .stmtSendLongData(ComStmtSendLongData(statementID: 1, parameterID: 0, data: ByteBuffer()))),
            (ComStmtClose(statementID: 1).payload(capabilities: capabilities), .stmtClose(ComStmtClose(statementID: 1))),
            (ComStmtReset(statementID: 1).payload(capabilities: capabilities), .stmtReset(ComStmtReset(statementID: 1))),
            (ComStmtFetch(statementID: 1, rowCount: 2).payload(capabilities: capabilities), .stmtFetch(ComStmtFetch(statementID: 1, rowCount: 2))),
            (ByteBuffer(hex: "0c05000000"), .other(.processKill, ByteBuffer(hex: "0c05000000"))),
        ]
        for (payload, expected) in cases {
            var reading = payload
            let command = try MySQLCommand(from: &reading, capabilities: capabilities)
            XCTAssertEqual(command, expected)
            XCTAssertEqual(command.code, expected.code)
        }
        var empty = ByteBuffer()
        XCTAssertThrowsError(try MySQLCommand(from: &empty, capabilities: capabilities))
    }

    func testTextAndBinaryRows() throws {
        let text = TextRow(values: [ByteBuffer(string: "1"), nil, ByteBuffer(string: ""), ByteBuffer(repeating: 0x61, count: 300)])
        var buffer = ByteBuffer()
        text.write(into: &buffer)
        XCTAssertEqual(try TextRow(from: &buffer, columnCount: 4), text)
        XCTAssertEqual(buffer.readableBytes, 0)

        let columns: [(ColumnType, ColumnFlags, MySQLBinaryValue)] = [
            (.tiny, [], .signed(-1)), (.tiny, .unsigned, .unsigned(255)), (.short, [], .signed(-300)), (.year, .unsigned, .unsigned(2024)),
            (.int24, [], .signed(-70000)), (.long, .unsigned, .unsigned(4_000_000_000)), (.longlong, [], .signed(.min)),
            (.float, [], .float(0.5)), (.double, [], .double(1e300)), (.date, [], .dateTime(MySQLDateTime(year: 2024, month: 2, day: 29))),
            (.datetime, [], .dateTime(MySQLDateTime(year: 1, month: 1, day: 1, hour: 1, minute: 1, second: 1))),
            (.timestamp, [], .dateTime(MySQLDateTime(year: 2038, month: 1, day: 19, hour: 3, minute: 14, second: 7, microsecond: 999_999))),
            (.datetime, [], .dateTime(MySQLDateTime(year: 0, month: 0, day: 0))), (.time, [], .time(MySQLTime(hours: 0, minutes: 0, seconds: 0))),
            (.time, [], .time(MySQLTime(days: 34, hours: 22, minutes: 59, seconds: 59))),
            (.time, [], .time(MySQLTime(isNegative: true, hours: 1, minutes: 2, seconds: 3, microseconds: 4))),
            (.newdecimal, [], .bytes(ByteBuffer(string: "-12.50"))), (.varString, [], .bytes(ByteBuffer(string: "héllo"))),
            (.blob, [.blob, .binary], .bytes(ByteBuffer(bytes: [0, 1, 255]))), (.bit, .unsigned, .bytes(ByteBuffer(bytes: [5]))),
            (.json, [], .bytes(ByteBuffer(string: "{}"))), (.geometry, [], .bytes(ByteBuffer(bytes: [0, 0, 0, 0, 1]))),
            (.enumeration, [], .bytes(ByteBuffer(string: "b"))), (.set, [], .bytes(ByteBuffer(string: "a,b"))),
            (.null, [], .null), (.long, [], .null),
        ]
        let definitions = columns.map { ColumnDefinition41(name: "c", type: $0.0, flags: $0.1) }
        let row = BinaryRow(values: columns.map(\.2))
        var binary = ByteBuffer()
        row.write(into: &binary, columns: definitions)
        XCTAssertEqual(try BinaryRow(from: &binary, columns: definitions), row)
        XCTAssertEqual(binary.readableBytes, 0)
    }

    func testRowsRejectTruncation() {
        var text = ByteBuffer(hex: "0131fb05")
        XCTAssertThrowsError(try TextRow(from: &text, columnCount: 3))
        var binary = ByteBuffer(hex: "0000010203")
        XCTAssertThrowsError(try BinaryRow(from: &binary, columns: [ColumnDefinition41(name: "c", type: .longlong)]))
        var badDate = ByteBuffer(hex: "000005e8070102")
        XCTAssertThrowsError(try BinaryRow(from: &badDate, columns: [ColumnDefinition41(name: "c", type: .date)]))
    }
}

final class StatementIDFieldTests: XCTestCase {
    func testRewritesStatementIDInPlace() throws {
        var fetch = ComStmtFetch(statementID: 7, rowCount: 3).payload(capabilities: [])
        XCTAssertEqual(StatementIDField.read(from: fetch), 7)
        XCTAssertTrue(StatementIDField.replace(in: &fetch, with: 0xDEAD_BEEF))
        XCTAssertEqual(try ComStmtFetch(payload: fetch, capabilities: []), ComStmtFetch(statementID: 0xDEAD_BEEF, rowCount: 3))

        var prepared = ComStmtPrepareOK(statementID: 1, columnCount: 2, parameterCount: 3).payload(capabilities: [])
        StatementIDField.replace(in: &prepared, with: 99)
        XCTAssertEqual(try ComStmtPrepareOK(payload: prepared, capabilities: []).statementID, 99)

        var short = ByteBuffer(hex: "190100")
        XCTAssertNil(StatementIDField.read(from: short))
        XCTAssertFalse(StatementIDField.replace(in: &short, with: 1))
        XCTAssertEqual(short, ByteBuffer(hex: "190100"))
    }
}
