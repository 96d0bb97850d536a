import Atomics

/// Query latency per backend for the funnel's own decisions and the backends table: log-linear
/// buckets (4 per power of two, 1 µs to ~70 min) of relaxed atomic counters, so recording from
/// every event loop costs a few nanoseconds and no lock. Quantiles are accurate to ~19 %; the
/// stats plugin keeps the exact HdrHistogram figures.
final class LatencyHistogram: @unchecked Sendable {
    private static let subBuckets = 4
    private static let bucketCount = 32 * subBuckets
    private let buckets: [ManagedAtomic<UInt64>] = (0..<LatencyHistogram.bucketCount).map { _ in ManagedAtomic(0) }

    func record(nanoseconds: UInt64) {
        buckets[Self.index(micros: max(nanoseconds / 1000, 1))].wrappingIncrement(ordering: .relaxed)
    }

    static func index(micros: UInt64) -> Int {
        let exponent = 63 - micros.leadingZeroBitCount                // floor(log2)
        let fraction = exponent >= 2 ? Int((micros >> (exponent - 2)) & 3) : 0
        return min(exponent * subBuckets + fraction, bucketCount - 1)
    }

    /// The lower edge of a bucket, in microseconds.
    static func lowerBound(of index: Int) -> UInt64 {
        let exponent = index / subBuckets
        let fraction = UInt64(index % subBuckets)
        guard exponent >= 2 else { return max(UInt64(1) << exponent, 1) }
        return (UInt64(1) << exponent) + fraction * (UInt64(1) << (exponent - 2))
    }

    /// The q-quantile in microseconds (0 when nothing was recorded).
    func quantile(_ q: Double) -> UInt64 {
        let counts = buckets.map { $0.load(ordering: .relaxed) }
        let total = counts.reduce(0, +)
        guard total > 0 else { return 0 }
        let rank = UInt64((Double(total) * q).rounded(.up))
        var seen: UInt64 = 0
        for (i, c) in counts.enumerated() {
            seen += c
            if seen >= max(rank, 1) { return Self.lowerBound(of: i) }
        }
        return Self.lowerBound(of: Self.bucketCount - 1)
    }
}
