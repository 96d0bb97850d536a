import CChassis
@testable import StatsPlugin
import XCTest

/// The C table, called as a C publisher would, without a chassis.
final class StatsServiceTests: XCTestCase {
    private let table = StatsService.table.pointee
    private var store = StatsStore(maxDigests: 10)
    private var instance: UnsafeMutableRawPointer { Unmanaged.passUnretained(store).toOpaque() }

    private func metric(_ kind: UInt32, _ name: String, _ labels: [String]) -> OpaquePointer? {
        let names = labels.map { UnsafePointer(strdup($0)!) }
        defer { names.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        return names.withUnsafeBufferPointer { table.metric(instance, kind, name, "help", $0.baseAddress, UInt32(labels.count)) }
    }

    private func series(_ metric: OpaquePointer, _ values: [String]) -> OpaquePointer? {
        let copies = values.map { UnsafePointer(strdup($0)!) }
        defer { copies.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        return copies.withUnsafeBufferPointer { table.series(instance, metric, $0.baseAddress) }
    }

    private final class Collected {
        var samples: [(name: String, labels: [String], value: Double, count: UInt64)] = []
        var digests: [(text: String, user: String, count: UInt64)] = []
    }

    private func snapshot() -> Collected {
        let collected = Collected()
        table.snapshot(instance, { sample, user in
            let s = sample.pointee
            let labels = (0..<Int(s.label_count)).map { String(cString: s.label_values![$0]) }
            Unmanaged<Collected>.fromOpaque(user!).takeUnretainedValue().samples.append((String(cString: s.name), labels, s.value, s.count))
        }, Unmanaged.passUnretained(collected).toOpaque())
        table.digests(instance, { digest, user in
            let d = digest.pointee
            Unmanaged<Collected>.fromOpaque(user!).takeUnretainedValue().digests.append(
                (String(cString: d.text), String(cString: d.user), d.count))
        }, Unmanaged.passUnretained(collected).toOpaque())
        return collected
    }

    func testTableSizeCoversTheHeader() {
        XCTAssertEqual(Int(table.size), MemoryLayout<chassis_stats_service>.size)
    }

    func testDeclareResolveAddRecordAndReadBack() throws {
        let counter = try XCTUnwrap(metric(UInt32(CHASSIS_STATS_COUNTER.rawValue), "requests", ["backend"]))
        XCTAssertEqual(metric(UInt32(CHASSIS_STATS_COUNTER.rawValue), "requests", ["backend"]), counter)
        XCTAssertNil(metric(UInt32(CHASSIS_STATS_GAUGE.rawValue), "requests", ["backend"]))
        XCTAssertNil(metric(99, "weird", []))
        let a = try XCTUnwrap(series(counter, ["a"]))
        XCTAssertEqual(series(counter, ["a"]), a, "the same pointer every time")
        table.add(a, 2)
        table.add(a, 3)
        let histogram = try XCTUnwrap(metric(UInt32(CHASSIS_STATS_HISTOGRAM.rawValue), "latency", []))
        let h = try XCTUnwrap(table.series(instance, histogram, nil))
        for ns: UInt64 in [1_000, 2_000, 3_000] { table.record(h, ns) }
        let samples = snapshot().samples
        XCTAssertTrue(samples.contains { $0.name == "requests" && $0.labels == ["a"] && $0.value == 5 })
        XCTAssertTrue(samples.contains { $0.name == "latency" && $0.count == 3 })
        table.release_series(instance, a)
        XCTAssertFalse(snapshot().samples.contains { $0.name == "requests" })
    }

    func testRecordQueryAndDigests() {
        for sql in ["SELECT * FROM t WHERE id = 1", "SELECT * FROM t WHERE id = 22"] {
            let bytes = Array(sql.utf8)
            bytes.withUnsafeBufferPointer { q in
                q.withMemoryRebound(to: CChar.self) { table.record_query(instance, $0.baseAddress!, $0.count, "app", "shop", 1_000, 1, 0, 0) }
            }
        }
        let digests = snapshot().digests
        XCTAssertEqual(digests.count, 1)
        XCTAssertEqual(digests.first?.text, "SELECT * FROM t WHERE id = ?")
        XCTAssertEqual(digests.first?.user, "app")
        XCTAssertEqual(digests.first?.count, 2)
    }

    func testAScopedQueryLandsInTheDigestOfItsUserAndDatabase() throws {
        let scope = try XCTUnwrap(table.digest_scope(instance, "app", "shop"))
        XCTAssertEqual(table.digest_scope(instance, "app", "shop"), scope, "one scope per pair")
        XCTAssertNotEqual(table.digest_scope(instance, "app", "other"), scope)
        func run(_ sql: String, _ body: (UnsafePointer<CChar>, Int) -> Void) {
            Array(sql.utf8).withUnsafeBufferPointer { q in q.withMemoryRebound(to: CChar.self) { body($0.baseAddress!, $0.count) } }
        }
        run("SELECT * FROM t WHERE id = 1") { table.record_query_in(scope, $0, $1, 1_000, 1, 0, 0) }
        run("SELECT * FROM t WHERE id = 2") { table.record_query(instance, $0, $1, "app", "shop", 1_000, 1, 0, 1) }
        run("SELECT * FROM t WHERE id = 3") { table.record_query_in(scope, $0, $1, 1_000, 1, 0, 0) }
        let digests = store.digests.samples()
        XCTAssertEqual(digests.count, 1, "scoped and unscoped executions of one shape share the digest")
        XCTAssertEqual(digests.first?.user, "app")
        XCTAssertEqual(digests.first?.database, "shop")
        XCTAssertEqual(digests.first?.count, 3)
        XCTAssertEqual(digests.first?.errors, 1)
    }

    func testNoScopePastTheLimit() throws {
        store = StatsStore(maxDigests: 10, maxScopes: 2)
        XCTAssertNotNil(table.digest_scope(instance, "a", "x"))
        XCTAssertNotNil(table.digest_scope(instance, "b", "x"))
        XCTAssertNil(table.digest_scope(instance, "c", "x"), "past maxScopes the caller passes the strings")
        XCTAssertNotNil(table.digest_scope(instance, "a", "x"), "a pair held already is still handed out")
    }

    func testCollectorThroughTheTable() {
        let id = table.add_collector(instance, { _, emit, sink in
            let names: [UnsafePointer<CChar>] = [UnsafePointer(strdup("pool")!)]
            let values: [UnsafePointer<CChar>] = [UnsafePointer(strdup("main")!)]
            names.withUnsafeBufferPointer { n in
                values.withUnsafeBufferPointer { v in
                    emit(sink, "funnel_pool_idle", "Idle connections.", UInt32(CHASSIS_STATS_GAUGE.rawValue), n.baseAddress, v.baseAddress, 1, 4)
                }
            }
            (names + values).forEach { free(UnsafeMutablePointer(mutating: $0)) }
        }, nil)
        XCTAssertNotEqual(id, 0)
        XCTAssertTrue(snapshot().samples.contains { $0.name == "funnel_pool_idle" && $0.labels == ["main"] && $0.value == 4 })
        table.remove_collector(instance, id)
        XCTAssertFalse(snapshot().samples.contains { $0.name == "funnel_pool_idle" })
    }

    /// Not a timed assertion: prints the cost of one add and one record through the C table.
    func testPrintPerRecordCost() throws {
        let counter = try XCTUnwrap(table.series(instance, try XCTUnwrap(metric(1, "cost_counter", [])), nil))
        let histogram = try XCTUnwrap(table.series(instance, try XCTUnwrap(metric(3, "cost_histogram", [])), nil))
        let n = 1_000_000
        let add = table.add, record = table.record
        var start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n { add(counter, 1) }
        let addNs = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(n)
        start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<n { record(histogram, UInt64(1_000 + i & 0xFFFFF)) }
        let recordNs = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(n)
        let queries = 10_000
        let sql = Array("SELECT o.id, o.total FROM orders o WHERE o.status = 'open' AND o.id IN (1, 2, 3) LIMIT 50".utf8)
        start = DispatchTime.now().uptimeNanoseconds
        sql.withUnsafeBufferPointer { q in
            q.withMemoryRebound(to: CChar.self) { q in
                for i in 0..<queries { table.record_query(instance, q.baseAddress!, q.count, "app", "shop", UInt64(1_000 + i), 1, 0, 0) }
            }
        }
        let queryNs = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(queries)
        print(String(format: "stats cost: add %.1f ns, record %.1f ns (1,000,000 calls each), record_query %.0f ns (%d-byte SELECT)",
                     addNs, recordNs, queryNs, sql.count))
        XCTAssertEqual(snapshot().samples.first { $0.name == "cost_histogram" }?.count, UInt64(n))
        XCTAssertEqual(snapshot().digests.first?.count, UInt64(queries))
    }
}
