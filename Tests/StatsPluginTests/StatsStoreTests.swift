@testable import StatsPlugin
import XCTest

final class StatsStoreTests: XCTestCase {
    func testDeclaringAgainReturnsTheSameFamilyAndSeries() throws {
        let store = StatsStore(maxDigests: 10)
        let a = try XCTUnwrap(store.metric(kind: .counter, name: "funnel_queries", help: "h", labelNames: ["backend"]))
        let b = try XCTUnwrap(store.metric(kind: .counter, name: "funnel_queries", help: "other help", labelNames: ["backend"]))
        XCTAssertTrue(a === b)
        XCTAssertTrue(a.series(["x"]) === b.series(["x"]))
        XCTAssertFalse(a.series(["x"]) === a.series(["y"]))
        XCTAssertNil(a.series([]), "one value per label")
    }

    func testClashesAndBadNamesAreRefused() {
        let store = StatsStore(maxDigests: 10)
        XCTAssertNotNil(store.metric(kind: .gauge, name: "pool_size", help: "", labelNames: ["pool"]))
        XCTAssertNil(store.metric(kind: .counter, name: "pool_size", help: "", labelNames: ["pool"]))
        XCTAssertNil(store.metric(kind: .gauge, name: "pool_size", help: "", labelNames: ["other"]))
        XCTAssertNil(store.metric(kind: .gauge, name: "9lives", help: "", labelNames: []))
        XCTAssertNil(store.metric(kind: .gauge, name: "a-b", help: "", labelNames: []))
        XCTAssertNil(store.metric(kind: .gauge, name: "ok", help: "", labelNames: ["__reserved"]))
        XCTAssertNil(store.metric(kind: .histogram, name: "ok2", help: "", labelNames: ["quantile"]))
        XCTAssertNil(store.metric(kind: .gauge, name: "ok3", help: "", labelNames: ["a", "a"]))
        XCTAssertNotNil(store.metric(kind: .gauge, name: "ns:ok_4", help: "", labelNames: ["_a1"]))
    }

    func testCounterGaugeAndHistogramSemantics() throws {
        let store = StatsStore(maxDigests: 10)
        let counter = try XCTUnwrap(store.metric(kind: .counter, name: "c", help: "", labelNames: [])?.series([]))
        counter.add(5)
        counter.add(-3)   // ignored: counters only go up
        counter.set(100)  // ignored: not a gauge
        XCTAssertEqual(counter.current, 5)
        let gauge = try XCTUnwrap(store.metric(kind: .gauge, name: "g", help: "", labelNames: [])?.series([]))
        gauge.add(5)
        gauge.add(-7)
        XCTAssertEqual(gauge.current, -2)
        gauge.set(42)
        XCTAssertEqual(gauge.current, 42)
        let histogram = try XCTUnwrap(store.metric(kind: .histogram, name: "h", help: "", labelNames: [])?.series([]))
        histogram.add(1)
        histogram.record(2_000)
        XCTAssertEqual(histogram.latencySummary?.count, 1)
        XCTAssertNil(counter.latencySummary)
    }

    func testCountersFromManyThreadsAddUpExactly() throws {
        let store = StatsStore(maxDigests: 10)
        let counter = try XCTUnwrap(store.metric(kind: .counter, name: "c", help: "", labelNames: [])?.series([]))
        let histogram = try XCTUnwrap(store.metric(kind: .histogram, name: "h", help: "", labelNames: [])?.series([]))
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<50_000 {
                counter.add(1)
                histogram.record(UInt64(1_000 + i + thread))
            }
        }
        XCTAssertEqual(counter.current, 400_000)
        XCTAssertEqual(histogram.latencySummary?.count, 400_000)
    }

    func testReleasedSeriesLeaveSnapshotsAndComeBack() throws {
        let store = StatsStore(maxDigests: 10)
        let family = try XCTUnwrap(store.metric(kind: .counter, name: "c", help: "", labelNames: ["k"]))
        let series = try XCTUnwrap(family.series(["a"]))
        series.add(3)
        series.isReleased = true
        XCTAssertTrue(store.snapshot().filter { $0.name == "c" }.isEmpty)
        XCTAssertTrue(family.series(["a"]) === series)
        XCTAssertEqual(store.snapshot().first { $0.name == "c" }?.value, 3)
    }

    func testCollectorsRunAtSnapshotUntilRemoved() {
        let store = StatsStore(maxDigests: 10)
        var calls = 0
        let id = store.addCollector { sink in
            calls += 1
            sink.emit(name: "pool-size", help: "h", kind: .gauge, labelNames: ["pool name"], labelValues: ["a"], value: 7)
            sink.emit(name: "ignored", help: "h", kind: .histogram, labelNames: [], labelValues: [], value: 1)
        }
        let sample = store.snapshot().first { $0.name == "pool_size" }
        XCTAssertEqual(sample?.value, 7)
        XCTAssertEqual(sample?.labelNames, ["pool_name"])
        XCTAssertFalse(store.snapshot().contains { $0.name == "ignored" })
        store.removeCollector(id)
        XCTAssertFalse(store.snapshot().contains { $0.name == "pool_size" })
        XCTAssertEqual(calls, 2)
    }
}
