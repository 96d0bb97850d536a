import Histogram

/// An HdrHistogram of nanoseconds from 1 µs to 10 min, plus the exact sum, min and max the
/// histogram only approximates. A value type: the owner provides the lock.
struct LatencyRecorder {
    static let lowest: UInt64 = 1_000                // 1 µs
    static let highest: UInt64 = 600_000_000_000     // 10 min

    private var histogram: Histogram<UInt64>
    private var sum: UInt64 = 0
    private var min = UInt64.max
    private var max: UInt64 = 0

    /// Three digits for metric series; digests take two, a tenth of the memory (about 25 KB).
    init(digits: SignificantDigits = .three) {
        histogram = Histogram(lowestDiscernibleValue: Self.lowest, highestTrackableValue: Self.highest,
                              numberOfSignificantValueDigits: digits)
    }

    @inline(__always)
    mutating func record(_ nanoseconds: UInt64) {
        // Beyond 10 min the value counts in the top bucket, so the count stays exact.
        histogram.record(Swift.min(nanoseconds, Self.highest))
        sum &+= nanoseconds
        if nanoseconds < min { min = nanoseconds }
        if nanoseconds > max { max = nanoseconds }
    }

    /// `count` values of one size at once.
    mutating func record(_ nanoseconds: UInt64, count: UInt64) {
        histogram.record(Swift.min(nanoseconds, Self.highest), count: count)
        sum &+= nanoseconds &* count
        if nanoseconds < min { min = nanoseconds }
        if nanoseconds > max { max = nanoseconds }
    }

    var summary: LatencySummary {
        let count = histogram.totalCount
        guard count > 0 else { return LatencySummary() }
        // The histogram rounds to its bucket's upper edge; never report beyond the real extremes.
        func at(_ percentile: Double) -> UInt64 { Swift.min(Swift.max(histogram.valueAtPercentile(percentile), min), max) }
        return LatencySummary(count: count, sum: sum, min: min, max: max, p50: at(50), p90: at(90), p95: at(95),
                              p99: at(99), p999: at(99.9))
    }

    var footprintBytes: Int { histogram.estimatedFootprintInBytes }
}
