import CChassis
import Foundation

/// A Swift face for the "stats" service (chassis_stats.h). `StatsClient(context:)` is nil when the
/// stats plugin is not loaded: a publisher then keeps no series and skips its figures.
///
/// Declare a metric once, resolve a series per object (a backend, a pool) and keep it: after that
/// `add`, `set` and `record` are one indirect call each, with no lookup and no lock shared between series.
public final class StatsClient: @unchecked Sendable {
    public enum Kind: UInt32 { case counter = 1, gauge = 2, histogram = 3 }

    let table: UnsafePointer<chassis_stats_service>
    let instance: UnsafeMutableRawPointer?
    private let lock = NSLock()
    private var collectors: [UInt64: Unmanaged<CollectorBox>] = [:]

    /// Whether the stats plugin has digest scopes (`digest_scope`, `record_query_in`): one built
    /// against the first release of chassis_stats.h has not.
    public let hasDigestScopes: Bool

    public init?(context: PluginContext) {
        let firstRelease = MemoryLayout<chassis_stats_service>.offset(of: \.digest_scope)!
        guard let service = context.serviceTable(CHASSIS_STATS_SERVICE, minVersion: UInt32(CHASSIS_STATS_VERSION),
                                                 as: chassis_stats_service.self, minimumSize: firstRelease) else { return nil }
        table = service.table
        instance = service.instance
        hasDigestScopes = Int(service.table.pointee.size) >= MemoryLayout<chassis_stats_service>.size
    }

    /// A family. Counters are exported as NAME_total, histograms (nanoseconds) as NAME_seconds summaries.
    /// nil when the name or a label name is invalid, or the name is declared with another kind or labels.
    public func metric(_ kind: Kind, _ name: String, help: String, labels: [String] = []) -> Metric? {
        let pointer = withCStringArray([name, help] + labels) { strings in
            table.pointee.metric(instance, kind.rawValue, strings[0], strings[1], labels.isEmpty ? nil : strings + 2, UInt32(labels.count))
        }
        return pointer.map { Metric(client: self, pointer: $0) }
    }

    public struct Metric: @unchecked Sendable {
        let client: StatsClient
        let pointer: OpaquePointer

        /// The series of these label values, in the order the labels were declared.
        public func series(_ labelValues: [String] = []) -> Series? {
            let series = withCStringArray(labelValues) { values in
                client.table.pointee.series(client.instance, pointer, labelValues.isEmpty ? nil : values)
            }
            return series.map { Series(table: client.table, instance: client.instance, pointer: $0) }
        }
    }

    /// One label combination; valid for the life of the process.
    public struct Series: @unchecked Sendable {
        @usableFromInline let table: UnsafePointer<chassis_stats_service>
        let instance: UnsafeMutableRawPointer?
        @usableFromInline let pointer: OpaquePointer

        /// Counters and gauges; a counter ignores a negative delta.
        @inlinable public func add(_ delta: Int64 = 1) { table.pointee.add(pointer, delta) }
        /// Gauges.
        @inlinable public func set(_ value: Int64) { table.pointee.set(pointer, value) }
        /// Histograms: one duration in nanoseconds.
        @inlinable public func record(nanoseconds: UInt64) { table.pointee.record(pointer, nanoseconds) }
        /// Drops the series from snapshots (its object went away); resolving it again brings it back.
        public func release() { table.pointee.release_series(instance, pointer) }
    }

    /// One execution of a query, for the digest table (normalized by the stats plugin).
    public func recordQuery(_ query: UnsafeRawBufferPointer, user: String, database: String, nanoseconds: UInt64,
                            rowsSent: UInt64 = 0, rowsAffected: UInt64 = 0, failed: Bool = false) {
        guard let base = query.baseAddress else { return }
        user.withCString { cUser in
            database.withCString { cDatabase in
                table.pointee.record_query(instance, base.assumingMemoryBound(to: CChar.self), query.count, cUser, cDatabase,
                                           nanoseconds, rowsSent, rowsAffected, failed ? 1 : 0)
            }
        }
    }

    /// A user and database of the digest table, resolved once: `record` then passes neither
    /// string per query. Like a Series it is a pair of pointers, so recording touches no
    /// reference count. Valid for the life of the process.
    public struct DigestScope: @unchecked Sendable {
        let table: UnsafePointer<chassis_stats_service>
        let pointer: OpaquePointer

        /// One execution of a query, for the digest table.
        public func record(_ query: UnsafeRawBufferPointer, nanoseconds: UInt64, rowsSent: UInt64 = 0,
                           rowsAffected: UInt64 = 0, failed: Bool = false) {
            guard let base = query.baseAddress else { return }
            table.pointee.record_query_in(pointer, base.assumingMemoryBound(to: CChar.self), query.count, nanoseconds,
                                          rowsSent, rowsAffected, failed ? 1 : 0)
        }
    }

    /// nil when the stats plugin has no scopes or holds too many already: use the strings.
    public func digestScope(user: String, database: String) -> DigestScope? {
        guard hasDigestScopes else { return nil }
        return table.pointee.digest_scope(instance, user, database).map { DigestScope(table: table, pointer: $0) }
    }

    /// What a collector writes its figures to, during one snapshot.
    public struct Emitter {
        let emit: chassis_stats_emit_fn
        let sink: UnsafeMutableRawPointer

        public func gauge(_ name: String, help: String, labels: [(String, String)] = [], _ value: Double) {
            send(.gauge, name, help, labels, value)
        }

        /// A running total the publisher keeps itself; exported as NAME_total.
        public func counter(_ name: String, help: String, labels: [(String, String)] = [], _ value: Double) {
            send(.counter, name, help, labels, value)
        }

        private func send(_ kind: Kind, _ name: String, _ help: String, _ labels: [(String, String)], _ value: Double) {
            withCStringArray([name, help] + labels.map(\.0) + labels.map(\.1)) { s in
                let count = labels.count
                emit(sink, s[0], s[1], kind.rawValue, count == 0 ? nil : s + 2, count == 0 ? nil : s + 2 + count, UInt32(count), value)
            }
        }
    }

    final class CollectorBox {
        let body: (Emitter) -> Void
        init(_ body: @escaping (Emitter) -> Void) { self.body = body }
    }

    /// Runs `body` at every snapshot (a scrape), on the scraping thread; keep it short. Returns the
    /// id for removeCollector, or 0. After removeCollector returns, `body` is not called again.
    @discardableResult
    public func addCollector(_ body: @escaping (Emitter) -> Void) -> UInt64 {
        let box = Unmanaged.passRetained(CollectorBox(body))
        let id = table.pointee.add_collector(instance, { user, emit, sink in
            Unmanaged<CollectorBox>.fromOpaque(user!).takeUnretainedValue().body(Emitter(emit: emit, sink: sink))
        }, box.toOpaque())
        guard id != 0 else { box.release(); return 0 }
        lock.lock()
        collectors[id] = box
        lock.unlock()
        return id
    }

    public func removeCollector(_ id: UInt64) {
        table.pointee.remove_collector(instance, id)
        lock.lock()
        let box = collectors.removeValue(forKey: id)
        lock.unlock()
        box?.release()
    }
}

/// NUL-terminated copies of `strings` for the length of one call.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>>) -> R) -> R {
    let copies = strings.map { UnsafePointer(strdup($0)!) }
    defer { copies.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
    return copies.withUnsafeBufferPointer { body($0.baseAddress ?? UnsafePointer(bitPattern: 1)!) }
}
