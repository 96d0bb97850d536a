import CChassis
import Foundation

/// "stats": the `query_digests` and `metrics` tables.
struct StatsFigures {
    static let digestColumns = [
        Column("digest", .varchar), Column("text", .varchar), Column("user", .varchar), Column("db", .varchar),
        Column("count", .bigint), Column("errors", .bigint), Column("rows_sent", .bigint), Column("rows_affected", .bigint),
        Column("total_ms", .double), Column("p99_ms", .double), Column("first_seen", .varchar), Column("last_seen", .varchar),
    ]
    static let metricColumns = [
        Column("name", .varchar), Column("labels", .varchar), Column("value", .double),
        Column("count", .bigint), Column("p50", .double), Column("p99", .double),
    ]

    private let service: ServiceAccess.Handle<chassis_stats_service>

    init(_ access: ServiceAccess, for purpose: String) throws {
        service = try access.require(CHASSIS_STATS_SERVICE, chassis_stats_service.self, plugin: "stats", for: purpose)
    }

    func digests() -> [[Value]] {
        RowCollector.collect { user in
            service.calls.digests(service.instance, { info, user in
                let d = info.pointee
                RowCollector.from(user).rows.append([
                    .text(StatsFigures.hex(d.id)), Value(d.text), Value(d.user), Value(d.database),
                    Value(d.count), Value(d.errors), Value(d.rows_sent), Value(d.rows_affected),
                    .milliseconds(d.total_ns, per: 1e6), .milliseconds(d.p99_ns, per: 1e6),
                    .text(StatsFigures.timestamp(d.first_seen_unix_ms)), .text(StatsFigures.timestamp(d.last_seen_unix_ms)),
                ])
            }, user)
        }
    }

    /// Histograms fill count, p50 and p99 (milliseconds); counters and gauges leave them NULL.
    func metrics() -> [[Value]] {
        RowCollector.collect { user in
            service.calls.snapshot(service.instance, { info, user in
                let s = info.pointee
                let labels = (0..<Int(s.label_count)).map { i in
                    "\(String(cString: s.label_names![i]))=\"\(String(cString: s.label_values![i]))\""
                }.joined(separator: ",")
                let histogram = s.kind == CHASSIS_STATS_HISTOGRAM.rawValue
                RowCollector.from(user).rows.append([
                    Value(s.name), .text(labels), .real(s.value),
                    histogram ? Value(s.count) : .null,
                    histogram ? .milliseconds(s.p50, per: 1e6) : .null,
                    histogram ? .milliseconds(s.p99, per: 1e6) : .null,
                ])
            }, user)
        }
    }

    static func hex(_ id: UInt64) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// UTC, to the millisecond; sorts as text in time order.
    static func timestamp(_ unixMilliseconds: Int64) -> String {
        var seconds = time_t(unixMilliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%03d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(unixMilliseconds % 1000))
    }
}
