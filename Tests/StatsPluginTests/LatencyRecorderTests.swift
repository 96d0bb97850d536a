@testable import StatsPlugin
import XCTest

final class LatencyRecorderTests: XCTestCase {
    func testQuantilesOfAUniformDistribution() {
        var recorder = LatencyRecorder()
        // 1 µs, 2 µs ... 10 ms: every quantile q sits at q * 10 ms.
        for i in 1...10_000 { recorder.record(UInt64(i) * 1_000) }
        let s = recorder.summary
        XCTAssertEqual(s.count, 10_000)
        XCTAssertEqual(s.sum, 1_000 * 10_000 * 10_001 / 2)
        XCTAssertEqual(s.min, 1_000)
        XCTAssertEqual(s.max, 10_000_000)
        for (value, expected) in [(s.p50, 5_000_000.0), (s.p90, 9_000_000), (s.p95, 9_500_000), (s.p99, 9_900_000), (s.p999, 9_990_000)] {
            // Three significant digits: within 0.1%.
            XCTAssertEqual(Double(value), expected, accuracy: expected * 0.001)
        }
    }

    func testValuesOutsideTheRangeKeepCountAndExtremes() {
        var recorder = LatencyRecorder()
        recorder.record(5)                      // below 1 µs
        recorder.record(3_600_000_000_000)      // one hour, beyond 10 min
        let s = recorder.summary
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s.min, 5)
        XCTAssertEqual(s.max, 3_600_000_000_000)
        XCTAssertEqual(s.sum, 3_600_000_000_005)
        XCTAssertLessThanOrEqual(s.p999, s.max)
        XCTAssertGreaterThanOrEqual(s.p50, s.min)
    }

    func testEmptyIsAllZero() {
        XCTAssertEqual(LatencyRecorder().summary, LatencySummary())
    }

    func testDigestPrecisionCostsAboutATenth() {
        let series = LatencyRecorder().footprintBytes
        let digest = LatencyRecorder(digits: .two).footprintBytes
        XCTAssertLessThan(digest, 32 * 1024)
        XCTAssertLessThan(digest * 5, series)
    }
}
