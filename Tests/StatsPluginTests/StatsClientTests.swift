import CChassis
@testable import PluginKit
@testable import StatsPlugin
import XCTest

/// PluginKit's StatsClient against the real service table, through a minimal fake host API whose
/// lookup_service returns that table.
final class StatsClientTests: XCTestCase {
    nonisolated(unsafe) private static var service: UnsafeMutablePointer<chassis_service>?

    private var store = StatsStore(maxDigests: 10)

    /// `tableSize`: what the service table says its size is (a stats plugin built against an older header).
    private func client(withStats: Bool, tableSize: Int? = nil) throws -> StatsClient? {
        var vtable = StatsService.table
        if let tableSize {
            let copy = UnsafeMutablePointer<chassis_stats_service>.allocate(capacity: 1)
            copy.initialize(to: StatsService.table.pointee)
            copy.pointee.size = UInt32(tableSize)
            vtable = UnsafePointer(copy)
        }
        let service = UnsafeMutablePointer<chassis_service>.allocate(capacity: 1)
        service.initialize(to: chassis_service(size: UInt32(MemoryLayout<chassis_service>.size), name: UnsafePointer(strdup("stats")!), version: 1,
                                               vtable: vtable, instance: Unmanaged.passUnretained(store).toOpaque()))
        Self.service = withStats ? service : nil
        let api = UnsafeMutablePointer<chassis_api>.allocate(capacity: 1)
        api.initialize(to: chassis_api(
            size: UInt32(MemoryLayout<chassis_api>.size), abi_major: 1, abi_minor: 1, host_version: UnsafePointer(strdup("test")!),
            set_error: { _, _ in }, log: { _, _, _ in }, option: { _, _ in nil },
            register_service: { _, _ in 0 }, unregister_service: { _, _ in 0 },
            lookup_service: { _, name, _ in String(cString: name) == "stats" ? StatsClientTests.service.map { UnsafePointer($0) } : nil },
            list_services: { _, _, _ in }, subscribe: { _, _, _, _ in 0 }, unsubscribe: { _, _ in 0 }, publish: { _, _ in },
            topic: nil))
        let context = UnsafeMutablePointer<chassis_context>.allocate(capacity: 1)
        context.initialize(to: chassis_context(size: UInt32(MemoryLayout<chassis_context>.size), api: api,
                                               self: OpaquePointer(bitPattern: 1)!, state: nil))
        return StatsClient(context: PluginContext(context))
    }

    func testDigestScopes() throws {
        let stats = try XCTUnwrap(try client(withStats: true))
        XCTAssertTrue(stats.hasDigestScopes)
        let scope = try XCTUnwrap(stats.digestScope(user: "u", database: "d"))
        Array("SELECT 1".utf8).withUnsafeBytes { scope.record($0, nanoseconds: 5_000, rowsSent: 1) }
        Array("SELECT 2".utf8).withUnsafeBytes { stats.recordQuery($0, user: "u", database: "d", nanoseconds: 5_000, failed: true) }
        let digest = try XCTUnwrap(store.digests.samples().first)
        XCTAssertEqual(store.digests.samples().count, 1)
        XCTAssertEqual([digest.text, digest.user, digest.database], ["SELECT ?", "u", "d"])
        XCTAssertEqual(digest.count, 2)
        XCTAssertEqual(digest.errors, 1)
    }

    func testAStatsPluginWithoutScopesStillServes() throws {
        let firstRelease = MemoryLayout<chassis_stats_service>.offset(of: \.digest_scope)!
        let stats = try XCTUnwrap(try client(withStats: true, tableSize: firstRelease))
        XCTAssertFalse(stats.hasDigestScopes)
        XCTAssertNil(stats.digestScope(user: "u", database: "d"), "the appended functions are not called")
        Array("SELECT 1".utf8).withUnsafeBytes { stats.recordQuery($0, user: "u", database: "d", nanoseconds: 5_000) }
        XCTAssertEqual(store.digests.samples().first?.count, 1)
        XCTAssertNil(try client(withStats: true, tableSize: firstRelease - 8), "a table short of the first release is refused")
    }

    func testNilWithoutTheService() throws {
        XCTAssertNil(try client(withStats: false))
    }

    func testPublishThroughTheClient() throws {
        let stats = try XCTUnwrap(try client(withStats: true))
        let queries = try XCTUnwrap(stats.metric(.counter, "funnel_backend_queries", help: "q", labels: ["backend"]))
        XCTAssertNil(stats.metric(.gauge, "funnel_backend_queries", help: "q", labels: ["backend"]))
        let db1 = try XCTUnwrap(queries.series(["db1"]))
        db1.add()
        db1.add(4)
        let duration = try XCTUnwrap(stats.metric(.histogram, "funnel_backend_query_duration", help: "d")?.series())
        duration.record(nanoseconds: 2_000)
        let idle = try XCTUnwrap(stats.metric(.gauge, "idle", help: "i")?.series())
        idle.set(9)
        Array("SELECT 1".utf8).withUnsafeBytes { stats.recordQuery($0, user: "u", database: "d", nanoseconds: 5_000, rowsSent: 1) }
        let id = stats.addCollector { emit in
            emit.gauge("pool_idle", help: "p", labels: [("pool", "main")], 3)
            emit.counter("pool_opened", help: "o", 11)
        }
        let samples = store.snapshot()
        func value(_ name: String) -> Double? { samples.first { $0.name == name }?.value }
        XCTAssertEqual(value("funnel_backend_queries"), 5)
        XCTAssertEqual(samples.first { $0.name == "funnel_backend_query_duration" }?.latency?.count, 1)
        XCTAssertEqual(value("idle"), 9)
        XCTAssertEqual(value("pool_idle"), 3)
        XCTAssertEqual(samples.first { $0.name == "pool_idle" }?.labelValues, ["main"])
        XCTAssertEqual(samples.first { $0.name == "pool_opened" }?.kind, .counter)
        XCTAssertEqual(store.digests.samples().first?.text, "SELECT ?")
        stats.removeCollector(id)
        db1.release()
        XCTAssertFalse(store.snapshot().contains { $0.name == "pool_idle" || $0.name == "funnel_backend_queries" })
    }
}
