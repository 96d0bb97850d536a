import Foundation
import MySQLWire
import NIOCore
import NIOPosix
import XCTest

/// End to end against a real MariaDB (MYSQL_TEST_HOST/PORT/USER/PASSWORD, default root@127.0.0.1:3306).
/// Without a server the tests are skipped, except under CI=true, where they fail.
final class MariaDBClientTests: XCTestCase {
    private static let user = "wire_e2e"
    private static let password = "pw-e2e"
    private static let schema = "wire_e2e"

    private var root = MariaDBTestClient.Configuration.fromEnvironment()
    private var user: MariaDBTestClient.Configuration {
        var configuration = root
        configuration.user = Self.user
        configuration.password = Self.password
        configuration.database = Self.schema
        return configuration
    }

    override func setUp() async throws {
        do {
            try await MariaDBTestClient.withConnection(root) { client in
                for sql in [
                    "SET GLOBAL max_allowed_packet = 67108864",
                    "CREATE DATABASE IF NOT EXISTS \(Self.schema)",
                    // wire_e2e@localhost too: MariaDB's anonymous ''@localhost would otherwise win.
                    "CREATE OR REPLACE USER \(Self.user)@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('\(Self.password)')",
                    "CREATE OR REPLACE USER \(Self.user)@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('\(Self.password)')",
                    "GRANT ALL ON \(Self.schema).* TO \(Self.user)@'%'",
                    "GRANT ALL ON \(Self.schema).* TO \(Self.user)@'localhost'",
                ] {
                    _ = try await client.query(sql)
                }
            }
        } catch let error as ERRPacket {
            throw error
        } catch {
            let message = "MariaDB not reachable at \(root.host):\(root.port) as \(root.user): \(error)"
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail(message)
                throw error
            }
            throw XCTSkip(message)
        }
    }

    func testLogsInWithNativePasswordAndDecodesEveryColumnType() async throws {
        for deprecateEOF in [true, false] {
            try await MariaDBTestClient.withConnection(user, deprecateEOF: deprecateEOF) { client in
                XCTAssertEqual(client.capabilities.contains(.deprecateEOF), deprecateEOF)
                _ = try await client.query("""
                    CREATE OR REPLACE TABLE all_types (
                      t TINYINT, tu TINYINT UNSIGNED, s SMALLINT, m MEDIUMINT, i INT, b BIGINT, bu BIGINT UNSIGNED,
                      f FLOAT, d DOUBLE, dec1 DECIMAL(10,3), dt DATE, dtt DATETIME(6), ts TIMESTAMP NULL, tm TIME(3), y YEAR,
                      c CHAR(3), vc VARCHAR(20), bin VARBINARY(8), tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB,
                      tx TEXT, e ENUM('a','b'), st SET('x','y'), bt BIT(10), j JSON, g GEOMETRY, n INT)
                    """)
                _ = try await client.query("""
                    INSERT INTO all_types VALUES (-128, 255, -32768, -8388608, -2147483648, -9223372036854775808,
                      18446744073709551615, 1.5, -2.25, 1234567.891, '2024-02-29', '2024-01-02 03:04:05.123456',
                      '2038-01-19 03:14:07', '-838:59:59.000', 2024, 'abc', 'héllo', X'00FF', 'tb', 'bl', 'mb', 'lb',
                      'tx', 'b', 'x,y', b'1010101010', '{"k": 1}', ST_GeomFromText('POINT(1 2)'), NULL)
                    """)
                let result = try await client.query("SELECT t, tu, s, m, i, b, bu, f, d, dec1, dt, dtt, ts, tm, y, c, vc, bin, tb, bl, mb, lb, tx, e, st, bt, j, ST_AsText(g), n, g FROM all_types")
                XCTAssertEqual(result.columns.map(\.type), [
                    .tiny, .tiny, .short, .int24, .long, .longlong, .longlong, .float, .double, .newdecimal, .date, .datetime,
                    .timestamp, .time, .year, .string, .varString, .varString, .blob, .blob, .blob, .blob, .blob, .string, .string,
                    .bit, .blob, .longBlob, .long, .geometry,
                ])
                XCTAssertTrue(result.columns[1].flags.contains(.unsigned))
                let row = try XCTUnwrap(result.strings.first)
                XCTAssertEqual(Array(row.prefix(29)), [
                    "-128", "255", "-32768", "-8388608", "-2147483648", "-9223372036854775808", "18446744073709551615",
                    "1.5", "-2.25", "1234567.891", "2024-02-29", "2024-01-02 03:04:05.123456", "2038-01-19 03:14:07",
                    "-838:59:59.000", "2024", "abc", "héllo", "\u{0}\u{FFFD}", "tb", "bl", "mb", "lb", "tx", "b", "x,y",
                    "\u{2}\u{FFFD}", "{\"k\": 1}", "POINT(1 2)", nil,
                ])
                XCTAssertEqual(result.rows[0].values[17].map { Array($0.readableBytesView) }, [0x00, 0xFF])
                XCTAssertEqual(result.rows[0].values[25].map { Array($0.readableBytesView) }, [0x02, 0xAA])
                XCTAssertEqual(result.rows[0].values[29]?.readableBytes, 25) // SRID + WKB point
                XCTAssertEqual(result.summary.rowCount, 1)
            }
        }
    }

    func testSeventeenMebibyteBlobBothWays() async throws {
        let size = 17 << 20
        let chunk = (0..<32768).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        var blob = ByteBuffer()
        for _ in 0..<(size / chunk.count) { blob.writeBytes(chunk) }
        try await MariaDBTestClient.withConnection(user) { client in
            _ = try await client.query("CREATE OR REPLACE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB)")
            var insert = ByteBuffer(string: "INSERT INTO blobs VALUES (1, '")
            insert.writeImmutableBuffer(blob)
            insert.writeString("')")
            let (_, inserted) = try await client.command(ComQuery(sql: insert).payload(capabilities: client.capabilities))
            XCTAssertNil(inserted.error)
            XCTAssertEqual(inserted.affectedRows, 1)

            let result = try await client.query("SELECT b, LENGTH(b) FROM blobs WHERE id = 1")
            XCTAssertEqual(result.strings.first?[1], String(size))
            let value = try XCTUnwrap(result.rows.first?.values[0])
            XCTAssertEqual(value.readableBytes, size)
            XCTAssertTrue(value == blob, "the blob came back changed")
        }
    }

    func testPreparedStatementWithParametersAndBinaryRows() async throws {
        for deprecateEOF in [true, false] {
            try await MariaDBTestClient.withConnection(user, deprecateEOF: deprecateEOF) { client in
                _ = try await client.query("CREATE OR REPLACE TABLE prepared (id BIGINT, u BIGINT UNSIGNED, f FLOAT, d DOUBLE, dt DATETIME(6), tm TIME(6), s VARCHAR(20), n INT, y YEAR, dec1 DECIMAL(5,2))")
                let insert = try await client.prepare("INSERT INTO prepared VALUES (?, ?, ?, ?, ?, ?, ?, ?, 2024, 12.5)")
                XCTAssertEqual(insert.ok.parameterCount, 8)
                XCTAssertEqual(insert.ok.columnCount, 0)
                let dateTime = MySQLDateTime(year: 2024, month: 5, day: 6, hour: 7, minute: 8, second: 9, microsecond: 10)
                let time = MySQLTime(isNegative: true, days: 1, hours: 2, minutes: 3, seconds: 4, microseconds: 5)
                let parameters: [MySQLBinaryValue] = [
                    .signed(-42), .unsigned(.max), .float(1.5), .double(-0.125), .dateTime(dateTime), .time(time), .bytes(ByteBuffer(string: "héllo")), .null,
                ]
                let (_, inserted) = try await client.execute(insert, parameters)
                XCTAssertEqual(inserted.affectedRows, 1)

                let select = try await client.prepare("SELECT id, u, f, d, dt, tm, s, n, y, dec1 FROM prepared WHERE id = ?")
                XCTAssertEqual(select.ok.parameterCount, 1)
                XCTAssertEqual(select.columns.count, 10)
                let (rows, summary) = try await client.execute(select, [.signed(-42)])
                XCTAssertEqual(summary.rowCount, 1)
                XCTAssertEqual(rows.first?.values, parameters + [.unsigned(2024), .bytes(ByteBuffer(string: "12.50"))])
            }
        }
    }

    func testTransactionRollbackAndStatusFlags() async throws {
        try await MariaDBTestClient.withConnection(user) { client in
            _ = try await client.query("CREATE OR REPLACE TABLE tx (id INT) ENGINE=InnoDB")
            XCTAssertFalse(client.machine.inTransaction)
            let begin = try await client.query("BEGIN")
            XCTAssertTrue(begin.summary.inTransaction)
            let insert = try await client.query("INSERT INTO tx VALUES (1)")
            XCTAssertEqual(insert.summary.affectedRows, 1)
            XCTAssertTrue(client.machine.inTransaction)
            let inside = try await client.query("SELECT COUNT(*) FROM tx")
            XCTAssertEqual(inside.strings, [["1"]])
            let rollback = try await client.query("ROLLBACK")
            XCTAssertFalse(rollback.summary.inTransaction)
            XCTAssertFalse(client.machine.inTransaction)
            let after = try await client.query("SELECT COUNT(*) FROM tx")
            XCTAssertEqual(after.strings, [["0"]])
        }
    }

    func testMultiStatementsErrorsAndSessionState() async throws {
        try await MariaDBTestClient.withConnection(user, deprecateEOF: false) { client in
            let (_, multi) = try await client.command(ComQuery(sql: "SELECT 1; SELECT 2, 3 UNION SELECT 4, 5; DO 1").payload(capabilities: client.capabilities))
            XCTAssertEqual(multi.resultSetCount, 2)
            XCTAssertEqual(multi.rowCount, 3)
            XCTAssertFalse(multi.statusFlags.contains(.moreResultsExist))

            let (_, failed) = try await client.command(ComQuery(sql: "SELECT 1; SELECT * FROM missing_table; SELECT 3").payload(capabilities: client.capabilities))
            XCTAssertEqual(failed.error?.errorCode, 1146)
            XCTAssertEqual(failed.error?.sqlState, "42S02")

            let (_, use) = try await client.command(ComInitDB(schema: "information_schema").payload(capabilities: client.capabilities))
            XCTAssertEqual(use.sessionStateChanges, [.schema("information_schema")])

            let (_, ping) = try await client.command(ByteBuffer(bytes: [CommandCode.ping.rawValue]))
            XCTAssertNil(ping.error)
            let (statistics, _) = try await client.command(ByteBuffer(bytes: [CommandCode.statistics.rawValue]))
            XCTAssertTrue(statistics.first.map { String(buffer: $0) }?.hasPrefix("Uptime") ?? false)
        }
    }
}
