@testable import AdminCore
import XCTest

final class TableQueryTests: XCTestCase {
    private let backends = ResultTable(
        name: "backends",
        columns: [Column("address", .varchar), Column("weight", .bigint), Column("p99_ms", .double), Column("backend", .varchar)],
        rows: [
            [.text("10.0.0.1:3306"), .integer(1), .real(2.5), .text("a")],
            [.text("10.0.0.2:3306"), .integer(3), .real(0.25), .null],
            [.text("db.example:3306"), .integer(2), .real(10), .text("B")],
        ])

    private func select(_ sql: String) throws -> ResultTable {
        guard case .select(let query) = try Parser.parse(sql) else { throw XCTSkip("not a select") }
        return try TableQuery.select(query, from: backends)
    }

    private func adminError(_ sql: String, file: StaticString = #filePath, line: UInt = #line) -> AdminError? {
        do {
            let table = try select(sql)
            XCTFail("answered \(table.rows)", file: file, line: line)
            return nil
        } catch let error as AdminError {
            return error
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
    }

    private func addresses(_ sql: String) throws -> [String] {
        try select(sql).rows.map { $0[0].rendered ?? "NULL" }
    }

    func testFilters() throws {
        XCTAssertEqual(try addresses("SELECT address FROM backends WHERE weight > 1"), ["10.0.0.2:3306", "db.example:3306"])
        XCTAssertEqual(try addresses("SELECT address FROM backends WHERE weight >= 2 AND p99_ms < 1"), ["10.0.0.2:3306"])
        XCTAssertEqual(try addresses("SELECT address FROM backends WHERE p99_ms = 10"), ["db.example:3306"])
        XCTAssertEqual(try addresses("SELECT address FROM backends WHERE weight <> 1"), ["10.0.0.2:3306", "db.example:3306"])
        XCTAssertEqual(try addresses("SELECT address FROM backends WHERE weight <= 2.5"), ["10.0.0.1:3306", "db.example:3306"])
        XCTAssertEqual(try addresses("SELECT address FROM backends WHERE address = '10.0.0.1:3306'"), ["10.0.0.1:3306"])
        XCTAssertEqual(try addresses("SELECT address FROM backends WHERE address = 'DB.EXAMPLE:3306'"), [])
    }

    func testLikeIgnoresCaseAndNullNeverMatches() throws {
        XCTAssertEqual(try addresses("SELECT * FROM backends WHERE address LIKE '10.%'"), ["10.0.0.1:3306", "10.0.0.2:3306"])
        XCTAssertEqual(try addresses("SELECT * FROM backends WHERE address LIKE 'DB%3306'"), ["db.example:3306"])
        XCTAssertEqual(try addresses("SELECT * FROM backends WHERE address LIKE '10.0.0._:3306'"), ["10.0.0.1:3306", "10.0.0.2:3306"])
        XCTAssertEqual(try addresses("SELECT * FROM backends WHERE weight LIKE '3'"), ["10.0.0.2:3306"])
        XCTAssertEqual(try addresses("SELECT * FROM backends WHERE backend != 'a'"), ["db.example:3306"])
        XCTAssertEqual(try addresses("SELECT * FROM backends WHERE backend = NULL"), [])
    }

    func testOrderLimitAndProjection() throws {
        XCTAssertEqual(try addresses("SELECT address FROM backends ORDER BY weight DESC"), ["10.0.0.2:3306", "db.example:3306", "10.0.0.1:3306"])
        XCTAssertEqual(try addresses("SELECT address FROM backends ORDER BY p99_ms LIMIT 2"), ["10.0.0.2:3306", "10.0.0.1:3306"])
        XCTAssertEqual(try addresses("SELECT address FROM backends ORDER BY backend"), ["10.0.0.2:3306", "db.example:3306", "10.0.0.1:3306"])
        XCTAssertEqual(try addresses("SELECT address FROM backends LIMIT 0"), [])
        let projected = try select("SELECT WEIGHT, address FROM backends WHERE weight = 2")
        XCTAssertEqual(projected.columns, [Column("weight", .bigint), Column("address", .varchar)])
        XCTAssertEqual(projected.rows, [[.integer(2), .text("db.example:3306")]])
        XCTAssertEqual(try select("SELECT * FROM backends").columns.count, 4)
        let count = try select("SELECT COUNT(*) FROM backends WHERE weight > 1")
        XCTAssertEqual(count.columns, [Column("COUNT(*)", .bigint)])
        XCTAssertEqual(count.rows, [[.integer(2)]])
    }

    func testErrors() {
        XCTAssertEqual(adminError("SELECT nope FROM backends"), .unknownColumn("nope", in: "field list"))
        XCTAssertEqual(adminError("SELECT * FROM backends WHERE nope = 1"), .unknownColumn("nope", in: "where clause"))
        XCTAssertEqual(adminError("SELECT * FROM backends ORDER BY nope"), .unknownColumn("nope", in: "order clause"))
        XCTAssertEqual(adminError("SELECT * FROM backends WHERE weight = 'three'")?.code, 1366)
        XCTAssertEqual(adminError("SELECT * FROM backends WHERE address = 5")?.message,
                       "Column 'address' is VARCHAR: compare it with a 'quoted string', not 5")
        XCTAssertEqual(adminError("SELECT * FROM backends WHERE address LIKE 5")?.code, 1366)
    }

    func testLikePattern() {
        XCTAssertTrue(LikePattern("%").matches(""))
        XCTAssertTrue(LikePattern("a%b%c").matches("aXXbYYc"))
        XCTAssertFalse(LikePattern("a%b%c").matches("aXXbYY"))
        XCTAssertTrue(LikePattern(#"100\%"#).matches("100%"))
        XCTAssertFalse(LikePattern(#"100\%"#).matches("1000"))
        XCTAssertTrue(LikePattern("%SELECT%").matches("select sleep(1)"))
        XCTAssertFalse(LikePattern("_").matches("ab"))
    }

    func testValueRendering() {
        XCTAssertEqual(Value.real(2).rendered, "2")
        XCTAssertEqual(Value.real(0.25).rendered, "0.25")
        XCTAssertEqual(Value.real(1.0 / 3).rendered, "0.333")
        XCTAssertEqual(Value.real(0.0001).rendered, "0")
        XCTAssertNil(Value.null.rendered)
    }
}
