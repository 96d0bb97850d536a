/// What a snapshot reads: the Swift side of chassis_stats_sample and chassis_stats_digest.
enum StatsKind: UInt32, Sendable {
    case counter = 1, gauge = 2, histogram = 3
}

/// A latency distribution in nanoseconds: exact count, sum, min and max; quantiles from HdrHistogram.
struct LatencySummary: Equatable, Sendable {
    var count: UInt64 = 0
    var sum: UInt64 = 0
    var min: UInt64 = 0
    var max: UInt64 = 0
    var p50: UInt64 = 0
    var p90: UInt64 = 0
    var p95: UInt64 = 0
    var p99: UInt64 = 0
    var p999: UInt64 = 0
}

/// One series of a family, or one figure a collector emitted.
struct StatsSample: Sendable {
    var name: String
    var help: String
    var kind: StatsKind
    var labelNames: [String]
    var labelValues: [String]
    /// Counter or gauge value; for a histogram its count.
    var value: Double
    var latency: LatencySummary?
}

struct DigestSample: Sendable {
    var id: UInt64
    var text: String
    var user: String
    var database: String
    var count: UInt64
    var errors: UInt64
    var rowsSent: UInt64
    var rowsAffected: UInt64
    var latency: LatencySummary
    var firstSeenUnixMs: Int64
    var lastSeenUnixMs: Int64
}
