@testable import StatsPlugin
import XCTest

final class DigestTableTests: XCTestCase {
    private var now: Int64 = 1_000

    private func record(_ table: DigestTable, _ sql: String, user: String = "app", db: String = "shop",
                        ns: UInt64 = 1_000_000, rows: UInt64 = 1, failed: Bool = false) {
        now += 1
        let execution = DigestTable.Execution(nanoseconds: ns, rowsSent: rows, rowsAffected: 0, failed: failed, unixMs: now)
        Array(sql.utf8).withUnsafeBufferPointer { q in
            Array(user.utf8).withUnsafeBufferPointer { u in
                Array(db.utf8).withUnsafeBufferPointer { d in table.record(query: q, user: u, database: d, execution) }
            }
        }
    }

    func testExecutionsOfOneShapeGroup() throws {
        let table = DigestTable(capacity: 10)
        record(table, "SELECT * FROM t WHERE id = 1", ns: 1_000_000, rows: 1)
        record(table, "select * from t where id = 2", ns: 3_000_000, rows: 0, failed: true)
        record(table, "SELECT * FROM t WHERE id = 1", user: "other")
        let samples = table.samples()
        XCTAssertEqual(samples.count, 2, "one per (digest, user, db)")
        let app = try XCTUnwrap(samples.first { $0.user == "app" })
        XCTAssertEqual(app.text, "SELECT * FROM t WHERE id = ?")
        XCTAssertEqual(app.count, 2)
        XCTAssertEqual(app.errors, 1)
        XCTAssertEqual(app.rowsSent, 1)
        XCTAssertEqual(app.latency.sum, 4_000_000)
        XCTAssertEqual(app.latency.min, 1_000_000)
        XCTAssertEqual(app.latency.max, 3_000_000)
        XCTAssertEqual(app.firstSeenUnixMs, 1_001)
        XCTAssertEqual(app.lastSeenUnixMs, 1_002)
        XCTAssertEqual(app.database, "shop")
    }

    func testTheEntryNotSeenLatelyIsEvicted() {
        let table = DigestTable(capacity: 3)
        record(table, "SELECT a FROM t")
        record(table, "SELECT b FROM t")
        record(table, "SELECT c FROM t")
        record(table, "SELECT a FROM t")  // a is now the most recent; b the least
        XCTAssertEqual(table.evictions, 0)
        record(table, "SELECT d FROM t")
        XCTAssertEqual(table.evictions, 1)
        XCTAssertEqual(table.samples().map(\.text), ["SELECT d FROM t", "SELECT a FROM t", "SELECT c FROM t"])
        record(table, "SELECT e FROM t")
        record(table, "SELECT f FROM t")
        XCTAssertEqual(table.evictions, 3)
        XCTAssertEqual(table.samples().map(\.text), ["SELECT f FROM t", "SELECT e FROM t", "SELECT d FROM t"])
        XCTAssertEqual(table.count, 3)
    }

    /// Half the table is hit again and again while new shapes keep arriving: those stay, the new
    /// ones take turns in the other half, and each eviction looks at two slots on average, not
    /// at the whole table.
    func testDigestsSeenAgainAndAgainSurviveAChurnOfNewOnes() {
        let table = DigestTable(capacity: 64)
        let hot = (0..<32).map { "SELECT h\($0) FROM t" }
        for sql in hot { record(table, sql) }
        for i in 0..<2_000 {
            record(table, "SELECT n\(i) FROM t")
            if i % 4 == 3 { for sql in hot { record(table, sql) } }
        }
        let kept = Set(table.samples().map(\.text))
        XCTAssertTrue(Set(hot).isSubset(of: kept), "\(Set(hot).subtracting(kept).sorted())")
        XCTAssertEqual(table.count, 64)
        XCTAssertEqual(table.evictions, 2_000 - 32)
        XCTAssertLessThan(table.evictionSteps, 3 * table.evictions + 64)
    }

    func testAnEvictedShapeComesBackAsANewEntry() {
        // The shape of "SELECT a ..." knows its slot; once another digest takes that slot, the
        // shape must not count into it.
        let table = DigestTable(capacity: 1)
        record(table, "SELECT a FROM t WHERE id = 1")
        record(table, "SELECT b FROM t WHERE id = 2")
        record(table, "SELECT a FROM t WHERE id = 3")
        record(table, "SELECT a FROM t WHERE id = 4", user: "other")
        record(table, "SELECT a FROM t WHERE id = 5", user: "other")
        let samples = table.samples()
        XCTAssertEqual(samples.map(\.text), ["SELECT a FROM t WHERE id = ?"])
        XCTAssertEqual(samples.map(\.user), ["other"])
        XCTAssertEqual(samples.first?.count, 2)
        XCTAssertEqual(table.evictions, 3)
    }

    func testCapacityOne() {
        let table = DigestTable(capacity: 1)
        record(table, "SELECT 1")
        record(table, "SELECT x")
        record(table, "SELECT x")
        XCTAssertEqual(table.samples().map(\.text), ["SELECT x"])
        XCTAssertEqual(table.samples().first?.count, 2)
        XCTAssertEqual(table.evictions, 1)
    }

    func testConcurrentRecordsCountExactly() {
        let table = DigestTable(capacity: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for i in 0..<2_000 { self.recordUnsafe(table, "SELECT \(i) FROM t\(i % 4)") }
        }
        XCTAssertEqual(table.samples().map(\.count).reduce(0, +), 8_000)
        XCTAssertEqual(table.count, 4)
        XCTAssertEqual(table.evictions, 0)
    }

    /// Without the shared clock: concurrentPerform calls it from many threads.
    private func recordUnsafe(_ table: DigestTable, _ sql: String) {
        let execution = DigestTable.Execution(nanoseconds: 1_000, rowsSent: 0, rowsAffected: 0, failed: false, unixMs: 0)
        Array(sql.utf8).withUnsafeBufferPointer { q in
            [UInt8]().withUnsafeBufferPointer { e in table.record(query: q, user: e, database: e, execution) }
        }
    }
}
