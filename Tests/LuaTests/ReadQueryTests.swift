import CChassis
import LuaCore
import MySQLWire
import NIOCore
import XCTest

final class ReadQueryTests: XCTestCase {
    func testAnswerWithResultSet() throws {
        let harness = try ScriptingHarness(fixture: "resultset.lua")
        let conn = harness.connect()
        XCTAssertEqual(conn.hooks, UInt32(CHASSIS_SCRIPT_HOOK_READ_QUERY))
        let outcome = conn.readQuery("SELECT * FROM lua.hello")
        XCTAssertEqual(outcome.action, sendResult)
        let set = try XCTUnwrap(outcome.resultSet)
        XCTAssertEqual(set.columns, ["id", "greeting", "nothing"])
        XCTAssertEqual(set.rows, [["1", "hello", nil], ["1", "again", "x"]])
        XCTAssertEqual(conn.readQuery("SELECT * FROM lua.hello").resultSet?.rows[1][0], "2", "a script local lives per connection")
        XCTAssertEqual(harness.connect(id: 2).readQuery("select * from lua.hello").resultSet?.rows[1][0], "1")
        XCTAssertEqual(conn.readQuery("SELECT 1").action, noDecision)
        XCTAssertTrue(harness.log.contains { $0.contains("fields[2].type is not set") })
    }

    func testAnswerWithError() throws {
        let conn = try ScriptingHarness(fixture: "error.lua").connect()
        let outcome = conn.readQuery("DROP TABLE t")
        XCTAssertEqual(outcome.action, sendResult)
        let error = try XCTUnwrap(outcome.error)
        XCTAssertEqual(error.errorCode, 1142)
        XCTAssertEqual(error.sqlState, "42000")
        XCTAssertEqual(error.message, "DROP is not allowed through this proxy")
        XCTAssertEqual(conn.readQuery("SELECT 1").action, noDecision)
    }

    func testRewrite() throws {
        let conn = try ScriptingHarness(fixture: "rewrite.lua").connect()
        let outcome = conn.readQuery("SELECT name FROM customers_old WHERE id = 'it''s'")
        XCTAssertEqual(outcome.action, sendInjection)
        XCTAssertEqual(outcome.queryTexts, ["SELECT `name` FROM `customers` WHERE `id` = 'it\\'s'"])
        XCTAssertEqual(outcome.queries.first?.needed, false)
        // The funnel streams the rewritten query's result and reports it as forwarded.
        let done = conn.readQueryResult(id: 1, [], forwarded: true)
        XCTAssertEqual(done.action, noDecision)
        XCTAssertTrue(done.queries.isEmpty)
        XCTAssertEqual(conn.readQuery("SELECT 1").action, noDecision)
    }

    func testInjectedResultIsHidden() throws {
        let harness = try ScriptingHarness(fixture: "inject.lua")
        let conn = harness.connect()
        let outcome = conn.readQuery("SELECT * FROM t")
        XCTAssertEqual(outcome.action, sendInjection)
        XCTAssertEqual(outcome.queryTexts, ["SELECT NOW()", "SELECT * FROM t"])
        XCTAssertEqual(outcome.queries.map(\.id), [2, 1])
        let hidden = conn.readQueryResult(id: 2, Responses.resultSet(["NOW()"], [["2024-05-01 12:00:00"]]))
        XCTAssertEqual(hidden.action, ignoreResult)
        XCTAssertEqual(hidden.queryTexts, ["SELECT * FROM t"], "the rest of the queue goes next")
        let shown = conn.readQueryResult(id: 1, Responses.resultSet(["a"], [["1"]]))
        XCTAssertEqual(shown.action, noDecision, "the client gets this result as the backend sent it")
        XCTAssertTrue(shown.queries.isEmpty)
    }

    func testUnionOfTwoResults() throws {
        let conn = try ScriptingHarness(fixture: "union.lua").connect()
        XCTAssertEqual(conn.readQuery("SELECT UNION").queries.count, 2)
        XCTAssertEqual(conn.readQueryResult(id: 1, Responses.resultSet(["name"], [["ann"], ["bob"]])).action, ignoreResult)
        let union = conn.readQueryResult(id: 2, Responses.resultSet(["name"], [["cy"]]))
        XCTAssertEqual(union.action, sendResult)
        let set = try XCTUnwrap(union.resultSet)
        XCTAssertEqual(set.columns, ["name", "from_query"])
        XCTAssertEqual(set.rows, [["ann", "1"], ["bob", "1"], ["cy", "2"]])
    }

    func testTimingsAndResultFigures() throws {
        let harness = try ScriptingHarness(fixture: "timings.lua")
        let conn = harness.connect()
        XCTAssertEqual(conn.readQuery("SELECT a, b FROM t").action, sendInjection)
        let result = conn.readQueryResult(id: 1, Responses.resultSet(["a", "b"], [["1", "2"], ["3", "4"]]),
                                          queryTime: 1234, responseTime: 5678)
        XCTAssertEqual(result.action, noDecision)
        XCTAssertEqual(conn.readQuery("UPDATE t SET a = 1").action, sendInjection)
        _ = conn.readQueryResult(id: 1, Responses.ok(affected: 3), queryTime: 10, responseTime: 11)
        let lines = harness.log.filter { $0.contains("query_time") }
        XCTAssertEqual(lines, [
            "query \"SELECT a, b FROM t\" query_time=1234 response_time=5678 rows=2 bytes=16 fields=2 status=0 affected=nil",
            "query \"UPDATE t SET a = 1\" query_time=10 response_time=11 rows=0 bytes=0 fields=0 status=0 affected=3",
        ])
    }

    func testBrokenScriptAnswersTheDocumentedError() throws {
        let harness = try ScriptingHarness(fixture: "broken.lua")
        XCTAssertFalse(harness.runtime.check())
        let conn = harness.connect()
        XCTAssertEqual(conn.hooks, UInt32(CHASSIS_SCRIPT_HOOK_READ_QUERY), "only read_query, to deliver the error")
        let error = try XCTUnwrap(conn.readQuery("SELECT 1").error)
        XCTAssertEqual(error.errorCode, 1105)
        XCTAssertEqual(error.sqlState, "07000")
        XCTAssertEqual(error.message, "MySQL Proxy Lua script failed to load. Check the error log.")
        XCTAssertTrue(harness.log.contains { $0.contains("broken.lua:4:") }, "\(harness.log)")
    }

    func testScriptThatFailsToRun() throws {
        let harness = try ScriptingHarness(fixture: "exec_error.lua")
        let error = try XCTUnwrap(harness.connect().readQuery("SELECT 1").error)
        XCTAssertEqual(error.message, "MySQL Proxy Lua script failed to execute. Check the error log.")
        XCTAssertTrue(harness.log.contains { $0.contains("exec_error.lua:3: attempt to index") }, "\(harness.log)")
    }

    /// A script whose read_query answers every query with an ERR carrying `answer`.
    private static func writeScript(answering answer: String, to file: URL) throws {
        try """
        function read_query(packet)
            proxy.response = { type = proxy.MYSQLD_PACKET_ERR, errmsg = "\(answer)" }
            return proxy.PROXY_SEND_RESULT
        end
        """.write(to: file, atomically: true, encoding: .utf8)
    }

    func testHookErrorForwardsTheQuery() throws {
        let harness = try ScriptingHarness(fixture: "hook_error.lua")
        let outcome = harness.connect().readQuery("SELECT 1")
        XCTAssertEqual(outcome.action, noDecision)
        XCTAssertTrue(outcome.failed)
        XCTAssertTrue(harness.log.contains { $0.contains("read_query() failed") && $0.contains("hook_error.lua:4:") }, "\(harness.log)")
    }

    func testReloadWhenTheFileChanges() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("reload-\(UUID()).lua")
        defer { try? FileManager.default.removeItem(at: file) }
        func write(_ answer: String) throws { try Self.writeScript(answering: answer, to: file) }
        try write("first")
        let harness = try ScriptingHarness(script: file.path, checkInterval: 0)
        let conn = harness.connect()
        XCTAssertEqual(conn.readQuery("SELECT 1").error?.message, "first")
        try write("second version")
        XCTAssertEqual(conn.readQuery("SELECT 1").error?.message, "second version")
        try "function read_query(".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(conn.readQuery("SELECT 1").error?.message, "MySQL Proxy Lua script failed to load. Check the error log.")
        try "".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(conn.hooks, 0, "an empty script defines no hook: the funnel calls nothing")
    }

    func testHooksPresentChecksTheVersionForTheCallThatFollows() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("checked-\(UUID()).lua")
        defer { try? FileManager.default.removeItem(at: file) }
        func write(_ answer: String) throws { try Self.writeScript(answering: answer, to: file) }
        try write("first")
        let harness = try ScriptingHarness(script: file.path, checkInterval: 0)
        let conn = harness.connect()
        let readQuery = UInt32(CHASSIS_SCRIPT_HOOK_READ_QUERY)
        XCTAssertNotEqual(conn.hooks & readQuery, 0)
        try write("second")
        // The statement runs the version hooks_present saw; the next statement sees the change.
        XCTAssertEqual(conn.readQuery("SELECT 1").error?.message, "first")
        XCTAssertNotEqual(conn.hooks & readQuery, 0)
        XCTAssertEqual(conn.readQuery("SELECT 1").error?.message, "second")
        // A call without hooks_present before it checks the file itself, every time.
        try write("third!")
        XCTAssertEqual(conn.readQuery("SELECT 1").error?.message, "third!")
        try write("the fourth")
        XCTAssertEqual(conn.readQuery("SELECT 1").error?.message, "the fourth")
    }

    func testEmptyScriptAndNoScript() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID()).lua")
        try "-- nothing\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertEqual(try ScriptingHarness(script: file.path).connect().hooks, 0)
        let off = try ScriptingRuntime(script: nil) { _, _ in }
        var info = chassis_script_connection()
        info.size = UInt32(MemoryLayout<chassis_script_connection>.size)
        XCTAssertNil(ScriptingService.table.pointee.create(ScriptingService.instance(off), &info))
    }
}
