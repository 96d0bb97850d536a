import CChassis
import MySQLWire
import NIOCore
import XCTest

final class ConnectionTests: XCTestCase {
    func testLoginDeniedInReadAuth() throws {
        let harness = try ScriptingHarness(fixture: "deny_login.lua")
        func login(_ user: String) -> Outcome {
            let conn = harness.connect(user: nil)
            XCTAssertEqual(conn.hooks, UInt32(CHASSIS_SCRIPT_HOOK_READ_AUTH))
            let response = HandshakeResponse41(capabilities: [.protocol41, .secureConnection, .pluginAuth], username: user,
                                               authResponse: Array(repeating: 7, count: 20), authPluginName: NativePassword.pluginName)
            return conn.readAuth(response.payload(capabilities: []))
        }
        let denied = login("intruder")
        XCTAssertEqual(denied.action, sendResult)
        XCTAssertEqual(denied.error?.errorCode, 1045)
        XCTAssertEqual(denied.error?.sqlState, "28000")
        XCTAssertEqual(denied.error?.message, "Access denied for user 'intruder' by the proxy script")
        XCTAssertEqual(login("app").action, noDecision)
    }

    func testMockServerWithoutBackend() throws {
        let conn = try ScriptingHarness(fixture: "mock_server.lua").connect()
        let greeting = conn.connectServer()
        XCTAssertEqual(greeting.action, sendResult)
        XCTAssertEqual(greeting.packets.count, 1)
        let handshake = try HandshakeV10(payload: greeting.packets[0], capabilities: [])
        XCTAssertEqual(handshake.serverVersion, "5.0.99")
        XCTAssertEqual(handshake.connectionID, 42)
        XCTAssertEqual(handshake.authPluginData.count, 20)
        XCTAssertEqual(handshake.authPluginName, NativePassword.pluginName)
        let auth = conn.readAuth(HandshakeResponse41(capabilities: [.protocol41, .secureConnection], username: "any",
                                                     authResponse: []).payload(capabilities: []))
        XCTAssertEqual(auth.action, sendResult)
        XCTAssertNoThrow(try OKPacket(payload: auth.packets[0], capabilities: .protocol41))
        XCTAssertEqual(conn.readQuery("SELECT @@version").resultSet?.rows, [["SELECT @@version"]])
    }

    func testReadWriteSplitChoosesBackends() throws {
        let harness = try ScriptingHarness(fixture: "rw_split.lua")
        FakeBackends.install(in: harness)
        let conn = harness.connect()
        let read = conn.readQuery("SELECT * FROM t")
        XCTAssertEqual(read.action, noDecision)
        XCTAssertEqual(read.backendNdx, 3, "the read-only backend with fewer clients")
        XCTAssertEqual(read.backendAddress, "10.0.0.3:3306")
        let write = conn.readQuery("/* w */ UPDATE t SET a = 1")
        XCTAssertEqual(write.backendNdx, 1)
        XCTAssertEqual(write.backendAddress, "10.0.0.1:3306")
    }

    func testProxyGlobalIsSharedAcrossThreads() throws {
        let harness = try ScriptingHarness(fixture: "global.lua")
        let threads = 4, queries = 250
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                let conn = harness.connect(id: UInt32(t + 10))
                for _ in 0..<queries { _ = conn.readQuery("SELECT 1") }
                group.leave()
            }
        }
        group.wait()
        let rows = harness.connect().readQuery("SHOW COUNTS").resultSet?.rows
        // Each increment is a read then a write: concurrent ones may overlap, as MySQL Proxy
        // scripts' did across its threads; every query counted is at least the connection's own.
        let global = Int(rows?[0][0] ?? "") ?? 0
        XCTAssertGreaterThan(global, queries)
        XCTAssertLessThanOrEqual(global, threads * queries + 1)
        XCTAssertEqual(rows?[0][1], "1", "a script's locals are per connection")
    }

    func testHelperModules() throws {
        let conn = try ScriptingHarness(fixture: "modules.lua").connect()
        let rows = try XCTUnwrap(conn.readQuery("CHECK MODULES").resultSet?.rows)
        var results: [String: String] = [:]
        for row in rows { results[row[0]!] = row[1] }
        XCTAssertEqual(results["_VERSION"], "Lua 5.1")
        XCTAssertEqual(results["challenge"], "50099 7 \(String(repeating: "a", count: 20)) 10")
        XCTAssertEqual(results["err"], "1064 42000 bad")
        XCTAssertEqual(results["ok"], "300 70000")
        XCTAssertEqual(results["response"], "u d 20")
        XCTAssertEqual(results["password"], "true")
        XCTAssertEqual(results["normalize"], "SELECT `a` , `b` FROM `t` WHERE `id` = ? AND `n` IN ( ? , ? ) ")
        XCTAssertEqual(results["first"], "TK_SQL_INSERT")
        XCTAssertEqual(results["commands"], "COM_INIT_DB shop")
        XCTAssertEqual(results["constants"], "3 8 2 4 2053")
        XCTAssertEqual(results["scramble"],
                       NativePassword.scramble(password: "secret", nonce: Array(repeating: UInt8(ascii: "c"), count: 20))
                           .map { String(format: "%02x", $0) }.joined(),
                       "mysql.password agrees with MySQLWire's mysql_native_password")
    }

    func testAutoConfig() throws {
        let harness = try ScriptingHarness(fixture: "modules.lua")
        let conn = harness.connect()
        XCTAssertEqual(conn.readQuery("PROXY SET GLOBAL rwsplit.max_idle = 4").action, sendResult)
        XCTAssertEqual(harness.connect(id: 2).readQuery("PROXY SHOW CONFIG").resultSet?.rows, [["rwsplit", "max_idle", "4", "number"]])
    }
}

/// A funnel.backends service with three backends: rw (5 clients), ro (9), ro (2).
enum FakeBackends {
    static let table: UnsafePointer<chassis_funnel_backends_service> = {
        let table = UnsafeMutablePointer<chassis_funnel_backends_service>.allocate(capacity: 1)
        table.initialize(to: chassis_funnel_backends_service(
            size: UInt32(MemoryLayout<chassis_funnel_backends_service>.size),
            list: { _, fn, user in
                for (i, (role, clients)) in [(1, 5), (2, 9), (2, 2)].enumerated() {
                    "10.0.0.\(i + 1):3306".withCString { address in
                        var info = chassis_funnel_backend_info(
                            size: UInt32(MemoryLayout<chassis_funnel_backend_info>.size), address: address, role: UInt32(role),
                            state: UInt32(CHASSIS_FUNNEL_BACKEND_UP.rawValue), weight: 1, max_connections: 0, open: 0, idle: 0,
                            in_use: UInt32(clients), connecting: 0, in_flight: 0, consecutive_failures: 0, queries: 0, errors: 0,
                            connects_ok: 0, connects_failed: 0, latency_p50_us: 0, latency_p99_us: 0, last_check_us: 0)
                        fn(&info, user)
                    }
                }
            },
            add: { _, _, _, _ in 1 }, update: { _, _, _, _ in 1 }, drain: { _, _, _, _, _ in 1 },
            set_state: { _, _, _, _, _ in 0 }, add_policy: { _, _ in 0 }, remove_policy: { _, _ in }))
        return UnsafePointer(table)
    }()

    static func install(in harness: ScriptingHarness) {
        harness.service.set_backends(harness.instance, table, nil)
    }
}
