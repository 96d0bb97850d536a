import CChassis
import Foundation

/// The "stats" service table (chassis_stats.h): C trampolines over a StatsStore. The instance
/// pointer is the store; metric and series pointers are their objects, kept alive by the store.
enum StatsService {
    static let table: UnsafePointer<chassis_stats_service> = {
        let table = UnsafeMutablePointer<chassis_stats_service>.allocate(capacity: 1)
        table.initialize(to: chassis_stats_service(
            size: UInt32(MemoryLayout<chassis_stats_service>.size),
            metric: { instance, kind, name, help, labelNames, labelCount in
                guard let instance, let kind = StatsKind(rawValue: kind) else { return nil }
                let family = store(instance).metric(kind: kind, name: String(cString: name), help: String(cString: help),
                                                    labelNames: strings(labelNames, Int(labelCount)))
                return family.map { OpaquePointer(Unmanaged.passUnretained($0).toOpaque()) }
            },
            series: { instance, metric, labelValues in
                let family = Unmanaged<MetricFamily>.fromOpaque(UnsafeRawPointer(metric)).takeUnretainedValue()
                let series = family.series(strings(labelValues, family.labelNames.count))
                return series.map { OpaquePointer(Unmanaged.passUnretained($0).toOpaque()) }
            },
            // The hot calls borrow the series without retain/release: no shared refcount traffic.
            add: { series, delta in
                Unmanaged<StatsSeries>.fromOpaque(UnsafeRawPointer(series))._withUnsafeGuaranteedRef { $0.add(delta) }
            },
            set: { series, value in
                Unmanaged<StatsSeries>.fromOpaque(UnsafeRawPointer(series))._withUnsafeGuaranteedRef { $0.set(value) }
            },
            record: { series, nanoseconds in
                Unmanaged<StatsSeries>.fromOpaque(UnsafeRawPointer(series))._withUnsafeGuaranteedRef { $0.record(nanoseconds) }
            },
            release_series: { _, series in
                Unmanaged<StatsSeries>.fromOpaque(UnsafeRawPointer(series)).takeUnretainedValue().isReleased = true
            },
            record_query: { instance, query, length, user, database, nanoseconds, rowsSent, rowsAffected, failed in
                guard let instance else { return }
                // Every query comes through here: no retain of the store (it outlives the service).
                Unmanaged<StatsStore>.fromOpaque(instance)._withUnsafeGuaranteedRef {
                    $0.recordQuery(
                        UnsafeBufferPointer(start: UnsafeRawPointer(query).assumingMemoryBound(to: UInt8.self), count: length),
                        user: bytes(user), database: bytes(database), nanoseconds: nanoseconds, rowsSent: rowsSent,
                        rowsAffected: rowsAffected, failed: failed != 0)
                }
            },
            add_collector: { instance, fn, user in
                guard let instance else { return 0 }
                return store(instance).addCollector { sink in fn(user, emit, Unmanaged.passUnretained(sink).toOpaque()) }
            },
            remove_collector: { instance, id in
                guard let instance else { return }
                store(instance).removeCollector(id)
            },
            snapshot: { instance, fn, user in
                guard let instance else { return }
                for sample in store(instance).snapshot() { withCSample(sample) { fn($0, user) } }
            },
            digests: { instance, fn, user in
                guard let instance else { return }
                for digest in store(instance).digests.samples() { withCDigest(digest) { fn($0, user) } }
            },
            digest_scope: { instance, user, database in
                guard let instance else { return nil }
                let scope = store(instance).digestScope(user: String(cString: user), database: String(cString: database))
                return scope.map { OpaquePointer(Unmanaged.passUnretained($0).toOpaque()) }
            },
            record_query_in: { scope, query, length, nanoseconds, rowsSent, rowsAffected, failed in
                Unmanaged<DigestTable.Scope>.fromOpaque(UnsafeRawPointer(scope))._withUnsafeGuaranteedRef { scope in
                    scope.store._withUnsafeGuaranteedRef {
                        $0.recordQuery(
                            UnsafeBufferPointer(start: UnsafeRawPointer(query).assumingMemoryBound(to: UInt8.self), count: length),
                            in: scope, nanoseconds: nanoseconds, rowsSent: rowsSent, rowsAffected: rowsAffected, failed: failed != 0)
                    }
                }
            }))
        return UnsafePointer(table)
    }()

    private static func store(_ instance: UnsafeMutableRawPointer) -> StatsStore {
        Unmanaged<StatsStore>.fromOpaque(instance).takeUnretainedValue()
    }

    /// What a collector calls for each figure.
    private static let emit: chassis_stats_emit_fn = { sink, name, help, kind, labelNames, labelValues, labelCount, value in
        guard let kind = StatsKind(rawValue: kind) else { return }
        Unmanaged<StatsStore.Sink>.fromOpaque(sink).takeUnretainedValue().emit(
            name: String(cString: name), help: String(cString: help), kind: kind,
            labelNames: strings(labelNames, Int(labelCount)), labelValues: strings(labelValues, Int(labelCount)), value: value)
    }

    private static func strings(_ array: UnsafePointer<UnsafePointer<CChar>>?, _ count: Int) -> [String] {
        guard let array, count > 0 else { return [] }
        return (0..<count).map { String(cString: array[$0]) }
    }

    private static func bytes(_ cString: UnsafePointer<CChar>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: UnsafeRawPointer(cString).assumingMemoryBound(to: UInt8.self), count: strlen(cString))
    }

    /// C strings that live for one callback.
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>>?) -> R) -> R {
        guard !strings.isEmpty else { return body(nil) }
        let copies = strings.map { UnsafePointer(strdup($0)!) }
        defer { copies.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        return copies.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    private static func withCSample(_ s: StatsSample, _ body: (UnsafePointer<chassis_stats_sample>) -> Void) {
        let l = s.latency ?? LatencySummary()
        withCStrings([s.name, s.help]) { texts in
            withCStrings(s.labelNames) { names in
                withCStrings(s.labelValues) { values in
                    var sample = chassis_stats_sample(
                        size: UInt32(MemoryLayout<chassis_stats_sample>.size), name: texts![0], help: texts![1],
                        kind: s.kind.rawValue, label_count: UInt32(s.labelNames.count), label_names: names, label_values: values,
                        value: s.value, count: l.count, sum: Double(l.sum), min: l.min, max: l.max, p50: l.p50, p90: l.p90,
                        p95: l.p95, p99: l.p99, p999: l.p999)
                    body(&sample)
                }
            }
        }
    }

    private static func withCDigest(_ d: DigestSample, _ body: (UnsafePointer<chassis_stats_digest>) -> Void) {
        withCStrings([d.text, d.user, d.database]) { texts in
            var digest = chassis_stats_digest(
                size: UInt32(MemoryLayout<chassis_stats_digest>.size), id: d.id, text: texts![0], user: texts![1],
                database: texts![2], count: d.count, errors: d.errors, rows_sent: d.rowsSent, rows_affected: d.rowsAffected,
                total_ns: d.latency.sum, min_ns: d.latency.min, max_ns: d.latency.max, p50_ns: d.latency.p50,
                p95_ns: d.latency.p95, p99_ns: d.latency.p99, first_seen_unix_ms: d.firstSeenUnixMs,
                last_seen_unix_ms: d.lastSeenUnixMs)
            body(&digest)
        }
    }
}
