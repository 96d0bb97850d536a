@testable import AdminCore
import MySQLWire
import NIOCore
import XCTest

final class SettingsTests: XCTestCase {
    func testPasswordIsRequired() {
        for password in [nil, ""] as [String?] {
            XCTAssertThrowsError(try AdminSettings(option: { $0 == "password" ? password : nil })) { error in
                XCTAssertTrue("\(error)".hasPrefix("admin-password must be set"), "\(error)")
            }
        }
    }

    func testDefaultsAndHashedPassword() throws {
        let settings = try AdminSettings(option: { $0 == "password" ? "s3cret" : nil })
        XCTAssertEqual(settings.host, "127.0.0.1")
        XCTAssertEqual(settings.port, 4041)
        XCTAssertTrue(settings.isLoopback)
        XCTAssertEqual(settings.credentials, .init(user: "admin", storedHash: NativePassword.storedHash(password: "s3cret")))
        let hashed = try AdminSettings(option: { $0 == "password" ? NativePassword.hashString(password: "s3cret") : nil })
        XCTAssertEqual(hashed.credentials, settings.credentials)
    }

    func testAddresses() throws {
        XCTAssertTrue(try AdminSettings.parseAddress("[::1]:4041") == ("::1", 4041))
        XCTAssertTrue(try AdminSettings.parseAddress("0.0.0.0:1") == ("0.0.0.0", 1))
        for bad in ["4041", ":4041", "host:", "host:0", "[::1]4041", "h:99999"] {
            XCTAssertThrowsError(try AdminSettings.parseAddress(bad), bad)
        }
    }

    func testSecretsAreMaskedInConfig() {
        XCTAssertEqual(HostOptions.masked("password", "s3cret"), "********")
        XCTAssertEqual(HostOptions.masked("auth-password", ""), "")
        XCTAssertEqual(HostOptions.masked("address", "127.0.0.1:4040"), "127.0.0.1:4040")
        XCTAssertEqual(HostOptions.masked("users", #"{"app":{"database":"d","password":"p"}}"#),
                       #"{"app":{"database":"d","password":"********"}}"#)
        XCTAssertEqual(HostOptions.masked("users", #"[{"name":"a","password":"p"}]"#), #"[{"name":"a","password":"********"}]"#)
    }

    func testResultSetPackets() throws {
        let table = ResultTable(name: "t", columns: [Column("a", .varchar), Column("n", .bigint)],
                                rows: [[.text("x"), .integer(7)], [.null, .integer(-1)]])
        let writer = ResultSetWriter(capabilities: AdminSession.offeredCapabilities, allocator: ByteBufferAllocator())
        let packets = writer.packets(for: .rows(table), firstSequenceID: 1)
        XCTAssertEqual(packets.map(\.sequenceID), [1, 2, 3, 4, 5, 6, 7])
        var count = packets[0].payload
        XCTAssertEqual(count.readLengthEncodedInteger(), 2)
        let column = try ColumnDefinition41(payload: packets[2].payload, capabilities: AdminSession.offeredCapabilities)
        XCTAssertEqual(column.name, "n")
        XCTAssertEqual(column.type, .longlong)
        XCTAssertEqual(packets[3].payload.getInteger(at: 0, as: UInt8.self), EOFPacket.header)
        var row = packets[5].payload
        let values = try TextRow(from: &row, columnCount: 2).values
        XCTAssertNil(values[0])
        XCTAssertEqual(values[1].map { String(buffer: $0) }, "-1")
        let err = writer.packets(for: .error(.unknownTable("x")), firstSequenceID: 1)
        let decoded = try ERRPacket(payload: err[0].payload, capabilities: AdminSession.offeredCapabilities)
        XCTAssertEqual(decoded.errorCode, 1146)
        XCTAssertEqual(decoded.sqlState, "42S02")
    }
}
