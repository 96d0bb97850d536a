import SQLText
import Synchronization

/// Per-query-digest figures, keyed by (normalized text, user, database), bounded: when full, the
/// digest seen least recently makes room and the eviction is counted. A query whose shape was
/// seen costs one fingerprint pass and one lock; a new shape is normalized outside the lock.
final class DigestTable: @unchecked Sendable {
    /// User and database by hash, so a hit makes no String.
    struct Key: Hashable {
        var digest: UInt64
        var user: UInt64
        var database: UInt64
    }

    private struct Entry {
        var key: Key
        var text: String
        var user: String
        var database: String
        var count: UInt64 = 0
        var errors: UInt64 = 0
        var rowsSent: UInt64 = 0
        var rowsAffected: UInt64 = 0
        var latency = LatencyRecorder(digits: .two)
        var firstSeen: Int64
        var lastSeen: Int64
        // The recency list, most recent first, as slot indices.
        var newer = -1
        var older = -1
    }

    private struct State {
        var slots: [Key: Int] = [:]
        var entries: [Entry] = []
        var newest = -1
        var oldest = -1
        var evictions: UInt64 = 0
        /// Query shapes seen (SQLShape) and their digests: a known shape skips normalizing.
        /// Bounded by clearing: refilling costs one normalization per shape.
        var shapes: [UInt64: UInt64] = [:]
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    struct Execution {
        var nanoseconds: UInt64
        var rowsSent: UInt64
        var rowsAffected: UInt64
        var failed: Bool
        var unixMs: Int64
    }

    func record(query: UnsafeBufferPointer<UInt8>, user: UnsafeBufferPointer<UInt8>, database: UnsafeBufferPointer<UInt8>,
                _ execution: Execution) {
        let userHash = FNV1a.hash(user)
        let databaseHash = FNV1a.hash(database)
        // A query shape seen before: its digest is known, and one lock does it all.
        let shape = SQLShape.fingerprint(query)
        if let shape, state.withLock({ s -> Bool in
            guard let digest = s.shapes[shape],
                  let slot = s.slots[Key(digest: digest, user: userHash, database: databaseHash)] else { return false }
            count(execution, in: &s, slot)
            return true
        }) { return }
        let digest = SQLDigest.normalize(query)
        let key = Key(digest: digest.hash, user: userHash, database: databaseHash)
        state.withLock { s in
            if let shape {
                if s.shapes.count >= capacity * 4 { s.shapes.removeAll(keepingCapacity: true) }
                s.shapes[shape] = digest.hash
            }
            let slot = s.slots[key] ?? insert(&s, key: key, text: digest.text, user: user, database: database, now: execution.unixMs)
            count(execution, in: &s, slot)
        }
    }

    private func count(_ execution: Execution, in s: inout State, _ slot: Int) {
        s.entries[slot].count &+= 1
        if execution.failed { s.entries[slot].errors &+= 1 }
        s.entries[slot].rowsSent &+= execution.rowsSent
        s.entries[slot].rowsAffected &+= execution.rowsAffected
        s.entries[slot].latency.record(execution.nanoseconds)
        s.entries[slot].lastSeen = execution.unixMs
        touch(&s, slot)
    }

    /// A new entry, in a fresh slot or in the least recently seen one's.
    private func insert(_ s: inout State, key: Key, text: String, user: UnsafeBufferPointer<UInt8>,
                        database: UnsafeBufferPointer<UInt8>, now: Int64) -> Int {
        let entry = Entry(key: key, text: text, user: String(decoding: user, as: UTF8.self),
                          database: String(decoding: database, as: UTF8.self), firstSeen: now, lastSeen: now)
        let slot: Int
        if s.entries.count < capacity {
            slot = s.entries.count
            s.entries.append(entry)
        } else {
            slot = s.oldest
            unlink(&s, slot)
            s.slots[s.entries[slot].key] = nil
            s.entries[slot] = entry
            s.evictions &+= 1
        }
        s.slots[key] = slot
        return slot
    }

    /// Moves a slot to the front of the recency list.
    private func touch(_ s: inout State, _ slot: Int) {
        guard s.newest != slot else { return }
        // Linked unless new: the newest has no newer neighbour, and it returned above.
        if s.entries[slot].newer != -1 { unlink(&s, slot) }
        s.entries[slot].older = s.newest
        s.entries[slot].newer = -1
        if s.newest != -1 { s.entries[s.newest].newer = slot }
        s.newest = slot
        if s.oldest == -1 { s.oldest = slot }
    }

    private func unlink(_ s: inout State, _ slot: Int) {
        let newer = s.entries[slot].newer, older = s.entries[slot].older
        if newer != -1 { s.entries[newer].older = older } else if s.newest == slot { s.newest = older }
        if older != -1 { s.entries[older].newer = newer } else if s.oldest == slot { s.oldest = newer }
        s.entries[slot].newer = -1
        s.entries[slot].older = -1
    }

    var evictions: UInt64 { state.withLock { $0.evictions } }
    var count: Int { state.withLock { $0.entries.count } }

    /// Every digest, most recently seen first. Entries are copied under the lock (the histograms
    /// copy-on-write), quantiles computed after it.
    func samples() -> [DigestSample] {
        let entries: [Entry] = state.withLock { s in
            var ordered: [Entry] = []
            ordered.reserveCapacity(s.entries.count)
            var slot = s.newest
            while slot != -1 {
                ordered.append(s.entries[slot])
                slot = s.entries[slot].older
            }
            return ordered
        }
        return entries.map { e in
            DigestSample(id: e.key.digest, text: e.text, user: e.user, database: e.database, count: e.count, errors: e.errors,
                         rowsSent: e.rowsSent, rowsAffected: e.rowsAffected, latency: e.latency.summary,
                         firstSeenUnixMs: e.firstSeen, lastSeenUnixMs: e.lastSeen)
        }
    }
}
