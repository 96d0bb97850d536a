@testable import AdminCore
import XCTest

final class ParserTests: XCTestCase {
    private func parse(_ sql: String) throws -> Statement { try Parser.parse(sql) }

    private func syntaxError(_ sql: String, file: StaticString = #filePath, line: UInt = #line) -> SyntaxError? {
        do {
            let statement = try Parser.parse(sql)
            XCTFail("parsed as \(statement)", file: file, line: line)
            return nil
        } catch let error as SyntaxError {
            return error
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
    }

    func testSelectWithEveryClause() throws {
        let statement = try parse("select address, `weight` FROM Backends WHERE state = 'up' AND weight >= 2 AND p99_ms < 1.5 "
                                  + "ORDER BY weight DESC, address LIMIT 3;")
        XCTAssertEqual(statement, .select(Select(
            projection: .columns(["address", "weight"]), table: "Backends",
            conditions: [Condition(column: "state", op: .equal, value: .text("up")),
                         Condition(column: "weight", op: .greaterOrEqual, value: .integer(2)),
                         Condition(column: "p99_ms", op: .less, value: .real(1.5))],
            order: [OrderItem(column: "weight", descending: true), OrderItem(column: "address", descending: false)],
            limit: 3)))
    }

    func testSelectStarAndEveryOperator() throws {
        XCTAssertEqual(try parse("SELECT * FROM pools"), .select(Select(projection: .all, table: "pools")))
        XCTAssertEqual(try parse("SELECT count(*) FROM clients WHERE user = 'app'"),
                       .select(Select(projection: .count, table: "clients",
                                      conditions: [Condition(column: "user", op: .equal, value: .text("app"))])))
        let operators: [(String, Condition.Operator)] = [("=", .equal), ("!=", .notEqual), ("<>", .notEqual), ("<", .less),
                                                         ("<=", .lessOrEqual), (">", .greater), (">=", .greaterOrEqual), ("like", .like)]
        for (text, op) in operators {
            guard case .select(let query) = try parse("SELECT * FROM clients WHERE id \(text) -4") else { return XCTFail(text) }
            XCTAssertEqual(query.conditions, [Condition(column: "id", op: op, value: .integer(-4))], text)
        }
    }

    func testWhatClientsSendOnConnect() throws {
        XCTAssertEqual(try parse("select @@version_comment limit 1"), .selectValues([.variable("version_comment")], limit: 1))
        XCTAssertEqual(try parse("SELECT DATABASE()"), .selectValues([.function("DATABASE")], limit: nil))
        XCTAssertEqual(try parse("SELECT 1, 'x', NULL"), .selectValues([.literal(.integer(1)), .literal(.text("x")), .literal(.null)], limit: nil))
        XCTAssertEqual(try parse("SET NAMES utf8mb4 COLLATE utf8mb4_general_ci"), .setNames)
        XCTAssertEqual(try parse("SET CHARACTER SET utf8"), .setNames)
        XCTAssertEqual(try parse("SET AUTOCOMMIT = 0"), .set([SetItem(scope: .unspecified, name: "AUTOCOMMIT", value: .integer(0))]))
        XCTAssertEqual(try parse("SET @@session.sql_mode = 'ANSI'"), .set([SetItem(scope: .session, name: "sql_mode", value: .text("ANSI"))]))
        XCTAssertEqual(try parse("COMMIT"), .endTransaction)
        XCTAssertEqual(try parse("  -- nothing\n /* at all */ ;"), .empty)
    }

    func testShowAndCommands() throws {
        XCTAssertEqual(try parse("show tables"), .showTables)
        XCTAssertEqual(try parse("SHOW HELP"), .showHelp)
        XCTAssertEqual(try parse("KILL CLIENT 42"), .killClient(42))
        XCTAssertEqual(try parse("kill 7"), .killClient(7))
        XCTAssertEqual(try parse("PAUSE"), .pause)
        XCTAssertEqual(try parse("resume;"), .resume)
        XCTAssertEqual(try parse("RELOAD"), .reload)
        XCTAssertEqual(try parse("LOAD PLUGIN stats"), .loadPlugin("stats"))
        XCTAssertEqual(try parse("LOAD PLUGIN hello-c"), .loadPlugin("hello-c"))
        XCTAssertEqual(try parse("LOAD PLUGIN 'my plugin'"), .loadPlugin("my plugin"))
    }

    func testSetOptions() throws {
        XCTAssertEqual(try parse("SET backlog_timeout = 2.5, pool-mode = session, GLOBAL backlog-max = 10"), .set([
            SetItem(scope: .unspecified, name: "backlog_timeout", value: .real(2.5)),
            SetItem(scope: .unspecified, name: "pool-mode", value: .text("session")),
            SetItem(scope: .global, name: "backlog-max", value: .integer(10)),
        ]))
    }

    func testInsertUpdateDelete() throws {
        XCTAssertEqual(try parse("INSERT INTO backends (address, role, weight, max_connections) VALUES ('10.0.0.7:3306', 'ro', 2, 50), ('h:1', 'rw', 1, NULL)"),
                       .insert(Insert(table: "backends", columns: ["address", "role", "weight", "max_connections"],
                                      rows: [[.text("10.0.0.7:3306"), .text("ro"), .integer(2), .integer(50)],
                                             [.text("h:1"), .text("rw"), .integer(1), .null]])))
        XCTAssertEqual(try parse("insert into users values ('u', 'p', 'db', 1, 2, 'session')"),
                       .insert(Insert(table: "users", columns: nil,
                                      rows: [[.text("u"), .text("p"), .text("db"), .integer(1), .integer(2), .text("session")]])))
        XCTAssertEqual(try parse("UPDATE backends SET weight = 3, role = 'ro', state = 'maintenance' WHERE address = 'h:1'"),
                       .update(Update(table: "backends",
                                      assignments: [Assignment(column: "weight", value: .integer(3)),
                                                    Assignment(column: "role", value: .text("ro")),
                                                    Assignment(column: "state", value: .text("maintenance"))],
                                      conditions: [Condition(column: "address", op: .equal, value: .text("h:1"))])))
        XCTAssertEqual(try parse("DELETE FROM backends WHERE address LIKE '10.%'"),
                       .delete(Delete(table: "backends", conditions: [Condition(column: "address", op: .like, value: .text("10.%"))])))
    }

    func testStringsAndNames() throws {
        guard case .select(let query) = try parse(#"SELECT * FROM `query_digests` WHERE text = 'it''s \'quoted\'\n' AND user = "a\"b""#) else {
            return XCTFail()
        }
        XCTAssertEqual(query.table, "query_digests")
        XCTAssertEqual(query.conditions.map(\.value), [.text("it's 'quoted'\n"), .text("a\"b")])
        guard case .select(let like) = try parse(#"SELECT * FROM clients WHERE query LIKE '100\%'"#) else { return XCTFail() }
        XCTAssertEqual(like.conditions.first?.value, .text(#"100\%"#))
    }

    func testSyntaxErrorsSayWhere() {
        let error = syntaxError("SELECT * FORM backends")
        XCTAssertEqual(error?.position, 10)
        XCTAssertEqual(error?.near, "FORM backends")
        XCTAssertEqual(error?.message, "You have an error in your SQL syntax near 'FORM backends' at position 10: expected FROM")
        XCTAssertEqual(syntaxError("SELECT * FROM backends WHERE weight 3")?.reason, "expected a comparison (= != <> < <= > >= LIKE)")
        XCTAssertEqual(syntaxError("SELECT * FROM backends WHERE address = 'unterminated")?.reason, "unterminated string")
        XCTAssertEqual(syntaxError("SELECT * FROM backends LIMIT x")?.reason, "expected a row count after LIMIT")
        XCTAssertEqual(syntaxError("SELECT *")?.reason, "SELECT * needs FROM and a table")
        XCTAssertEqual(syntaxError("SELECT address")?.reason, "unknown name 'address': a column needs FROM and a table")
        XCTAssertEqual(syntaxError("SELECT count(id) FROM pools")?.reason, "expected '*'")
        XCTAssertEqual(syntaxError("SELECT COUNT(*), user FROM pools")?.reason, "select column names, * or COUNT(*) alone from a table")
        XCTAssertEqual(syntaxError("SELECT COUNT(*)")?.reason, "COUNT(*) needs FROM and a table")
        XCTAssertEqual(syntaxError("DROP TABLE backends")?.reason, "expected a statement (SHOW HELP lists them)")
        XCTAssertEqual(syntaxError("SHOW VARIABLES")?.reason, "expected TABLES or HELP after SHOW")
        XCTAssertEqual(syntaxError("SELECT 1; SELECT 2")?.reason, "expected the end of the statement")
        XCTAssertEqual(syntaxError("SELECT 1; SELECT 2")?.position, 11)
        XCTAssertEqual(syntaxError("KILL CLIENT -1")?.reason, "expected a client id")
        XCTAssertEqual(syntaxError("SELECT * FROM t WHERE a = 12abc")?.reason, "malformed number")
        XCTAssertEqual(syntaxError("SELECT $ FROM t")?.reason, "unexpected character")
    }

    func testPositionCountsCharactersNotBytes() {
        let error = syntaxError("SELECT 'ünï' FORM")
        XCTAssertEqual(error?.position, 14)
    }
}
