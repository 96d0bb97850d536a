import Foundation
import Synchronization

/// Everything the stats service holds: metric families, collectors and the digest table. The C
/// service (StatsService) and the HTTP endpoints are thin layers over it, so it is tested alone.
final class StatsStore: @unchecked Sendable {
    /// Receives what collectors emit during one snapshot.
    final class Sink {
        fileprivate(set) var samples: [StatsSample] = []

        /// Names are sanitized (a collector cannot be told about an error); histograms are not
        /// accepted from collectors, which emit single values.
        func emit(name: String, help: String, kind: StatsKind, labelNames: [String], labelValues: [String], value: Double) {
            guard kind != .histogram, labelNames.count == labelValues.count else { return }
            samples.append(StatsSample(name: MetricName.sanitized(metric: name), help: help, kind: kind,
                                       labelNames: labelNames.map(MetricName.sanitized(label:)), labelValues: labelValues,
                                       value: value, latency: nil))
        }
    }

    typealias Collector = (Sink) -> Void

    let digests: DigestTable
    /// A test's clock; nil: the coarse real-time clock, called directly (calling a stored closure
    /// retains its context, on every query).
    private let testClock: (() -> Int64)?

    private struct Families {
        var byName: [String: MetricFamily] = [:]
        var order: [MetricFamily] = []
    }
    private let families = Mutex(Families())

    /// Held while collectors run, so that once remove_collector returns its function is never called again.
    private let collectors = Mutex<(next: UInt64, list: [(id: UInt64, body: Collector)])>((1, []))

    /// Every scope handed out, each kept for the life of the store (callers hold raw pointers).
    private let scopes = Mutex<[ScopeKey: DigestTable.Scope]>([:])
    /// Past this many (user, database) pairs a caller gets no scope and passes the strings: one
    /// per client with its own random schema name must not grow the store without end.
    let maxScopes: Int

    private struct ScopeKey: Hashable {
        var user: String
        var database: String
    }

    init(maxDigests: Int, maxScopes: Int = 10_000, clock: (() -> Int64)? = nil) {
        digests = DigestTable(capacity: maxDigests)
        self.maxScopes = maxScopes
        testClock = clock
    }

    @inline(__always)
    private func clock() -> Int64 {
        if let testClock { return testClock() }
        return Self.unixMilliseconds()
    }

    /// The coarse clock (a few ms of resolution): it is read for every query's digest, where a
    /// last-seen time needs no better, and costs a fraction of the precise one.
    static func unixMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Declares a family, or returns the one of that name when kind and labels match; nil on a clash
    /// or an invalid name.
    func metric(kind: StatsKind, name: String, help: String, labelNames: [String]) -> MetricFamily? {
        guard MetricName.isValid(metric: name), labelNames.allSatisfy(MetricName.isValid(label:)),
              Set(labelNames).count == labelNames.count else { return nil }
        return families.withLock { f in
            if let existing = f.byName[name] {
                return existing.kind == kind && existing.labelNames == labelNames ? existing : nil
            }
            let family = MetricFamily(kind: kind, name: name, help: help, labelNames: labelNames)
            f.byName[name] = family
            f.order.append(family)
            return family
        }
    }

    func recordQuery(_ query: UnsafeBufferPointer<UInt8>, user: UnsafeBufferPointer<UInt8>, database: UnsafeBufferPointer<UInt8>,
                     nanoseconds: UInt64, rowsSent: UInt64, rowsAffected: UInt64, failed: Bool) {
        digests.record(query: query, user: user, database: database,
                       .init(nanoseconds: nanoseconds, rowsSent: rowsSent, rowsAffected: rowsAffected, failed: failed, unixMs: clock()))
    }

    /// The scope of this user and database (the same object for the same pair); nil when
    /// `maxScopes` pairs are held already.
    func digestScope(user: String, database: String) -> DigestTable.Scope? {
        scopes.withLock { scopes in
            let key = ScopeKey(user: user, database: database)
            if let scope = scopes[key] { return scope }
            guard scopes.count < maxScopes else { return nil }
            let scope = DigestTable.Scope(user: user, database: database, store: self)
            scopes[key] = scope
            return scope
        }
    }

    func recordQuery(_ query: UnsafeBufferPointer<UInt8>, in scope: DigestTable.Scope, nanoseconds: UInt64, rowsSent: UInt64,
                     rowsAffected: UInt64, failed: Bool) {
        digests.record(query: query, in: scope,
                       .init(nanoseconds: nanoseconds, rowsSent: rowsSent, rowsAffected: rowsAffected, failed: failed, unixMs: clock()))
    }

    func addCollector(_ body: @escaping Collector) -> UInt64 {
        collectors.withLock { c in
            let id = c.next
            c.next += 1
            c.list.append((id, body))
            return id
        }
    }

    func removeCollector(_ id: UInt64) {
        collectors.withLock { c in c.list.removeAll { $0.id == id } }
    }

    /// Declared series, then what collectors emit, then the store's own figures.
    func snapshot() -> [StatsSample] {
        var samples = families.withLock { $0.order }.flatMap { $0.samples() }
        let sink = Sink()
        collectors.withLock { c in
            for collector in c.list { collector.body(sink) }
        }
        samples += sink.samples
        samples.append(StatsSample(name: "stats_digest_evictions", help: "Query digests dropped to make room (ones not seen lately first).",
                                   kind: .counter, labelNames: [], labelValues: [], value: Double(digests.evictions), latency: nil))
        samples.append(StatsSample(name: "stats_digests", help: "Query digests held now.", kind: .gauge, labelNames: [],
                                   labelValues: [], value: Double(digests.count), latency: nil))
        return samples
    }
}
