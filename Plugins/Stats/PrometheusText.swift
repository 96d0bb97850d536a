/// The Prometheus text exposition format, version 0.0.4.
///
/// Histograms go out as summaries: an HdrHistogram has thousands of buckets, too many to export
/// as `_bucket` series, and a few fixed buckets would throw away the precision it was chosen for;
/// quantiles computed here are exact to 3 digits. The price: summaries cannot be aggregated across
/// processes, and the quantiles cover the whole life of the process.
enum PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static let metricQuantiles: [(String, KeyPath<LatencySummary, UInt64>)] = [
        ("0.5", \.p50), ("0.9", \.p90), ("0.95", \.p95), ("0.99", \.p99), ("0.999", \.p999),
    ]
    static let digestQuantiles: [(String, KeyPath<LatencySummary, UInt64>)] = [("0.5", \.p50), ("0.95", \.p95), ("0.99", \.p99)]

    static func render(_ samples: [StatsSample], digests: [DigestSample]) -> String {
        var out = ""
        for family in group(samples) { write(family, to: &out) }
        writeDigests(digests, to: &out)
        return out
    }

    /// Samples of one name together, in order of first appearance. A later sample whose kind or
    /// label set clashes with what came first is dropped: a family has one type and no duplicates.
    private static func group(_ samples: [StatsSample]) -> [[StatsSample]] {
        var index: [String: Int] = [:]
        var seen: [Int: Set<[String]>] = [:]
        var families: [[StatsSample]] = []
        for sample in samples {
            let name = MetricName.exported(sample.name, sample.kind)
            guard let i = index[name] else {
                index[name] = families.count
                seen[families.count] = [sample.labelNames + sample.labelValues]
                families.append([sample])
                continue
            }
            let labels = sample.labelNames + sample.labelValues
            guard families[i][0].kind == sample.kind, seen[i]!.insert(labels).inserted else { continue }
            families[i].append(sample)
        }
        return families
    }

    private static func write(_ family: [StatsSample], to out: inout String) {
        let first = family[0]
        let name = MetricName.exported(first.name, first.kind)
        switch first.kind {
        case .counter, .gauge:
            header(name, first.help, first.kind == .counter ? "counter" : "gauge", to: &out)
            for s in family { line(name, labels(s), s.value, to: &out) }
        case .histogram:
            header(name, first.help, "summary", to: &out)
            for s in family {
                let l = s.latency ?? LatencySummary()
                summary(name, labels(s), l, metricQuantiles, to: &out)
            }
            header(name + "_max", "Largest value recorded: " + first.help, "gauge", to: &out)
            for s in family { line(name + "_max", labels(s), seconds(s.latency?.max ?? 0), to: &out) }
        }
    }

    private static func writeDigests(_ digests: [DigestSample], to out: inout String) {
        guard !digests.isEmpty else { return }
        let counters: [(String, String, KeyPath<DigestSample, UInt64>)] = [
            ("query_digest_calls_total", "Executions of the query digest.", \.count),
            ("query_digest_errors_total", "Executions of the query digest that failed.", \.errors),
            ("query_digest_rows_sent_total", "Rows the query digest returned.", \.rowsSent),
            ("query_digest_rows_affected_total", "Rows the query digest changed.", \.rowsAffected),
        ]
        for (name, help, field) in counters {
            header(name, help, "counter", to: &out)
            for d in digests { line(name, digestLabels(d), Double(d[keyPath: field]), to: &out) }
        }
        let name = "query_digest_duration_seconds"
        header(name, "Time the query digest took; text in /stats.json by digest id.", "summary", to: &out)
        for d in digests { summary(name, digestLabels(d), d.latency, digestQuantiles, to: &out) }
        header(name + "_max", "Longest execution of the query digest.", "gauge", to: &out)
        for d in digests { line(name + "_max", digestLabels(d), seconds(d.latency.max), to: &out) }
    }

    /// The digest text stays out of labels (long, and one series per distinct text); its id links to /stats.json.
    private static func digestLabels(_ d: DigestSample) -> [(String, String)] {
        [("digest", hex(d.id)), ("user", d.user), ("db", d.database)]
    }

    static func hex(_ id: UInt64) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func labels(_ s: StatsSample) -> [(String, String)] { Array(zip(s.labelNames, s.labelValues)) }

    private static func summary(_ name: String, _ labels: [(String, String)], _ l: LatencySummary,
                                _ quantiles: [(String, KeyPath<LatencySummary, UInt64>)], to out: inout String) {
        for (q, field) in quantiles { line(name, labels + [("quantile", q)], seconds(l[keyPath: field]), to: &out) }
        line(name + "_sum", labels, seconds(l.sum), to: &out)
        line(name + "_count", labels, Double(l.count), to: &out)
    }

    private static func header(_ name: String, _ help: String, _ type: String, to out: inout String) {
        out += "# HELP \(name) \(escape(help, quotes: false))\n# TYPE \(name) \(type)\n"
    }

    private static func line(_ name: String, _ labels: [(String, String)], _ value: Double, to out: inout String) {
        out += name
        if !labels.isEmpty {
            out += "{" + labels.map { "\($0.0)=\"\(escape($0.1, quotes: true))\"" }.joined(separator: ",") + "}"
        }
        out += " " + format(value) + "\n"
    }

    static func seconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e9 }

    /// Label values escape \ " and newline; HELP text escapes \ and newline.
    static func escape(_ text: String, quotes: Bool) -> String {
        guard text.contains(where: { $0 == "\\" || $0 == "\n" || (quotes && $0 == "\"") }) else { return text }
        var out = ""
        for c in text {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quotes: out += "\\\""
            default: out.append(c)
            }
        }
        return out
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
