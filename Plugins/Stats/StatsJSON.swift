import Foundation

/// GET /stats.json: the same figures as /metrics, plus each digest's text.
struct StatsJSON: Encodable {
    struct Metric: Encodable {
        var name: String
        var type: String
        var help: String
        var labels: [String: String]
        var value: Double?
        var count: UInt64?
        var sumSeconds: Double?
        var minSeconds: Double?
        var maxSeconds: Double?
        var quantiles: [String: Double]?
    }

    struct Digest: Encodable {
        var id: String
        var text: String
        var user: String
        var db: String
        var calls: UInt64
        var errors: UInt64
        var rowsSent: UInt64
        var rowsAffected: UInt64
        var totalSeconds: Double
        var minSeconds: Double
        var maxSeconds: Double
        var p50Seconds: Double
        var p95Seconds: Double
        var p99Seconds: Double
        var firstSeenUnixMs: Int64
        var lastSeenUnixMs: Int64
    }

    var metrics: [Metric]
    var digests: [Digest]

    init(_ samples: [StatsSample], digests: [DigestSample]) {
        let seconds = PrometheusText.seconds
        metrics = samples.map { s in
            var m = Metric(name: MetricName.exported(s.name, s.kind), type: s.kind == .counter ? "counter" : s.kind == .gauge ? "gauge" : "summary",
                           help: s.help, labels: Dictionary(zip(s.labelNames, s.labelValues), uniquingKeysWith: { a, _ in a }))
            if let l = s.latency {
                m.count = l.count
                m.sumSeconds = seconds(l.sum)
                m.minSeconds = seconds(l.min)
                m.maxSeconds = seconds(l.max)
                m.quantiles = Dictionary(uniqueKeysWithValues: PrometheusText.metricQuantiles.map { ($0.0, seconds(l[keyPath: $0.1])) })
            } else {
                m.value = s.value
            }
            return m
        }
        self.digests = digests.map { d in
            Digest(id: PrometheusText.hex(d.id), text: d.text, user: d.user, db: d.database, calls: d.count, errors: d.errors,
                   rowsSent: d.rowsSent, rowsAffected: d.rowsAffected, totalSeconds: seconds(d.latency.sum),
                   minSeconds: seconds(d.latency.min), maxSeconds: seconds(d.latency.max), p50Seconds: seconds(d.latency.p50),
                   p95Seconds: seconds(d.latency.p95), p99Seconds: seconds(d.latency.p99),
                   firstSeenUnixMs: d.firstSeenUnixMs, lastSeenUnixMs: d.lastSeenUnixMs)
        }
    }

    func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        // A collector may emit NaN or infinities, which JSON has no numbers for.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "+Inf", negativeInfinity: "-Inf", nan: "NaN")
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }
}
