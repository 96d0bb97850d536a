@testable import StatsPlugin
import XCTest

final class StatsSeriesTests: XCTestCase {
    func testZerosCountInTheHistogramWhenItIsRead() throws {
        let series = StatsSeries(kind: .histogram, labelValues: ["app"])
        for _ in 0..<70 { series.record(0) }              // waits that found a free connection
        for _ in 0..<30 { series.record(2_000_000) }      // 2 ms
        let first = try XCTUnwrap(series.latencySummary)
        XCTAssertEqual(first.count, 100)
        XCTAssertEqual(first.min, 0)
        XCTAssertLessThan(first.p50, 1_000, "below the histogram's 1 µs resolution")
        XCTAssertEqual(first.sum, 60_000_000)
        XCTAssertGreaterThanOrEqual(first.p99, 2_000_000)
        series.record(0)
        XCTAssertEqual(series.latencySummary?.count, 101, "zeros are folded in once, not again at each read")
    }

    func testCountersAndGaugesIgnoreRecord() {
        let counter = StatsSeries(kind: .counter, labelValues: [])
        counter.record(0)
        counter.record(5)
        XCTAssertNil(counter.latencySummary)
        XCTAssertEqual(counter.current, 0)
    }
}
