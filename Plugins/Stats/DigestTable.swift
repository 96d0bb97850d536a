import Glibc
import SQLText
import Synchronization

/// Per-query-digest figures, keyed by (normalized text, user, database), bounded: when full, a
/// digest not seen lately (CLOCK, see `insert`) makes room and the eviction is counted. A query
/// whose shape was seen costs one fingerprint pass, one lock and one lookup of a word; a new
/// shape is normalized outside the lock.
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
        var lastTick: UInt64 = 0
        /// The tick when the eviction hand last passed (or the entry came): seen since if `lastTick` is later.
        var sweptTick: UInt64 = 0
        var firstSeen: Int64
        var lastSeen: Int64
        /// Counts the times the slot was given to another digest, so a stale `seen` entry misses.
        var generation: UInt32 = 0

        @inline(__always)
        mutating func add(_ execution: Execution, tick: UInt64) {
            count &+= 1
            if execution.failed { errors &+= 1 }
            rowsSent &+= execution.rowsSent
            rowsAffected &+= execution.rowsAffected
            latency.record(execution.nanoseconds)
            lastSeen = execution.unixMs
            lastTick = tick
        }
    }

    private struct State {
        var slots: [Key: Int] = [:]
        var entries: [Entry] = []
        var evictions: UInt64 = 0
        /// (query shape, user, database), mixed into one word, to the slot and its generation:
        /// a shape seen before skips normalizing and the three-word key. A direct-mapped cache
        /// (the word is already well mixed): a collision only costs one more normalization.
        var seen: [Seen]
        /// The order records came in, for "seen since" in the eviction (a counter, not the clock).
        var tick: UInt64 = 0
        /// The slot the eviction hand looks at next, and how many slots it has looked at.
        var hand = 0
        var handSteps: UInt64 = 0
    }

    private struct Seen {
        var key: UInt64 = 0
        var slot: Int32 = -1
        var generation: UInt32 = 0
    }

    let capacity: Int
    private let state: SpinLock<State>
    private let seenMask: Int
    /// Each recording thread's SQLShapeCache (32 KB, freed when the thread ends): most queries
    /// repeat a shape, and the cache finds its fingerprint by comparing bytes.
    /// nil when the process is out of thread-specific keys: then every query is fingerprinted.
    private let shapeCacheKey: pthread_key_t?

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        var key = pthread_key_t()
        shapeCacheKey = pthread_key_create(&key, { storage in storage.map { SQLShapeCache($0).deallocate() } }) == 0 ? key : nil
        // Four cache places per digest, a power of two.
        let places = 1 << (64 - UInt64(max(4 * self.capacity - 1, 1)).leadingZeroBitCount)
        seenMask = places - 1
        state = SpinLock(State(seen: Array(repeating: Seen(), count: places)))
    }

    struct Execution {
        var nanoseconds: UInt64
        var rowsSent: UInt64
        var rowsAffected: UInt64
        var failed: Bool
        var unixMs: Int64
    }

    /// A (user, database) pair with its hashes, resolved once per client (digest_scope), so a
    /// query names it without passing, measuring or hashing the strings again.
    final class Scope: @unchecked Sendable {
        let user: String
        let database: String
        let userHash: UInt64
        let databaseHash: UInt64
        /// The store that handed the scope out and keeps it: record_query_in reaches it through
        /// the scope, borrowed without a retain (the store outlives its scopes).
        let store: Unmanaged<StatsStore>

        init(user: String, database: String, store: StatsStore) {
            self.user = user
            self.database = database
            userHash = FNV1a.hash(user.utf8)
            databaseHash = FNV1a.hash(database.utf8)
            self.store = .passUnretained(store)
        }
    }

    /// Where a new digest's user and database names come from (read only when the digest is new
    /// to the table). The scope is borrowed, not retained: its store keeps it.
    private enum Names {
        case scope(Unmanaged<Scope>)
        case bytes(user: UnsafeBufferPointer<UInt8>, database: UnsafeBufferPointer<UInt8>)

        var strings: (user: String, database: String) {
            switch self {
            case .scope(let scope):
                return scope._withUnsafeGuaranteedRef { ($0.user, $0.database) }
            case .bytes(let user, let database):
                return (String(decoding: user, as: UTF8.self), String(decoding: database, as: UTF8.self))
            }
        }
    }

    func record(query: UnsafeBufferPointer<UInt8>, user: UnsafeBufferPointer<UInt8>, database: UnsafeBufferPointer<UInt8>,
                _ execution: Execution) {
        record(query: query, userHash: FNV1a.hash(user), databaseHash: FNV1a.hash(database), execution,
               names: .bytes(user: user, database: database))
    }

    func record(query: UnsafeBufferPointer<UInt8>, in scope: Scope, _ execution: Execution) {
        record(query: query, userHash: scope.userHash, databaseHash: scope.databaseHash, execution,
               names: .scope(.passUnretained(scope)))
    }

    private func record(query: UnsafeBufferPointer<UInt8>, userHash: UInt64, databaseHash: UInt64, _ execution: Execution,
                        names: Names) {
        // A query shape seen before for this user and database: its slot is known.
        let shape = fingerprint(query)
        let seenKey = shape.map { Self.mix($0, userHash, databaseHash) }
        if let seenKey, state.withLock({ s -> Bool in
            let seen = s.seen[Int(truncatingIfNeeded: seenKey) & seenMask]
            guard seen.key == seenKey, seen.slot >= 0, s.entries[Int(seen.slot)].generation == seen.generation else { return false }
            count(execution, in: &s, Int(seen.slot))
            return true
        }) { return }
        let digest = SQLDigest.normalize(query)
        let key = Key(digest: digest.hash, user: userHash, database: databaseHash)
        state.withLock { s in
            let slot = s.slots[key] ?? insert(&s, key: key, text: digest.text, names: names.strings, now: execution.unixMs)
            if let seenKey {
                s.seen[Int(truncatingIfNeeded: seenKey) & seenMask] = Seen(key: seenKey, slot: Int32(slot), generation: s.entries[slot].generation)
            }
            count(execution, in: &s, slot)
        }
    }

    /// A table going away leaves the caches of threads still running (a key deleted runs no
    /// destructor); the store lives as long as the process, only tests make and drop tables.
    deinit {
        if let shapeCacheKey { pthread_key_delete(shapeCacheKey) }
    }

    @inline(__always)
    private func fingerprint(_ query: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard let shapeCacheKey else { return SQLShape.fingerprint(query) }
        if let storage = pthread_getspecific(shapeCacheKey) { return SQLShapeCache(storage).fingerprint(query) }
        let cache = SQLShapeCache.allocate()
        pthread_setspecific(shapeCacheKey, cache.storage)
        return cache.fingerprint(query)
    }

    /// Three hashes into one word (each multiplied by its own odd constant, then folded).
    @inline(__always)
    private static func mix(_ shape: UInt64, _ user: UInt64, _ database: UInt64) -> UInt64 {
        var h = shape &* 0x9E37_79B9_7F4A_7C15
        h ^= user &* 0xC2B2_AE3D_27D4_EB4F
        h ^= database &* 0x1656_67B1_9E37_79F9
        return h ^ (h >> 29)
    }

    private func count(_ execution: Execution, in s: inout State, _ slot: Int) {
        s.tick &+= 1
        s.entries[slot].add(execution, tick: s.tick)   // one access to the entry, not one per field
    }

    /// A new entry, in a fresh slot or, in a full table, in the slot of one not seen since the
    /// eviction hand last passed it (CLOCK): the hand goes round the slots, and one seen since
    /// its last pass gets a second chance. Least recently seen, approximately, at a constant
    /// cost per eviction on average: a scan for the exact one read every slot under the lock
    /// for each new digest (1,000 by default, and `max-digests` may be much more).
    private func insert(_ s: inout State, key: Key, text: String, names: (user: String, database: String), now: Int64) -> Int {
        var entry = Entry(key: key, text: text, user: names.user, database: names.database, firstSeen: now, lastSeen: now)
        // count() gives it the next tick: a new entry is not "seen since" until it comes again.
        entry.sweptTick = s.tick &+ 1
        let slot: Int
        if s.entries.count < capacity {
            slot = s.entries.count
            s.entries.append(entry)
        } else {
            slot = Self.evictionVictim(&s)
            s.slots[s.entries[slot].key] = nil
            entry.generation = s.entries[slot].generation &+ 1
            s.entries[slot] = entry
            s.evictions &+= 1
        }
        s.slots[key] = slot
        return slot
    }

    /// Ends within one lap and a slot: a lap leaves every slot swept at the current tick.
    private static func evictionVictim(_ s: inout State) -> Int {
        while true {
            let slot = s.hand
            s.hand = slot + 1 == s.entries.count ? 0 : slot + 1
            s.handSteps &+= 1
            if s.entries[slot].lastTick <= s.entries[slot].sweptTick { return slot }
            s.entries[slot].sweptTick = s.tick
        }
    }

    var evictions: UInt64 { state.withLock { $0.evictions } }
    /// Slots the eviction hand has looked at (for tests of its cost).
    var evictionSteps: UInt64 { state.withLock { $0.handSteps } }
    var count: Int { state.withLock { $0.entries.count } }

    /// Every digest, most recently seen first. Entries are copied under the lock (the histograms
    /// copy-on-write), quantiles computed after it.
    func samples() -> [DigestSample] {
        let entries = state.withLock { $0.entries }.sorted { $0.lastTick > $1.lastTick }
        return entries.map { e in
            DigestSample(id: e.key.digest, text: e.text, user: e.user, database: e.database, count: e.count, errors: e.errors,
                         rowsSent: e.rowsSent, rowsAffected: e.rowsAffected, latency: e.latency.summary,
                         firstSeenUnixMs: e.firstSeen, lastSeenUnixMs: e.lastSeen)
        }
    }
}
