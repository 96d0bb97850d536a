// Internal bookkeeping objects. Reference types so the pool can link them cheaply; the pool is
// the only owner and the caller serialises all access. Links are strong (a record may outlive its
// removal by a few lines of an event); `ConnectionPool.deinit` breaks the cycles.

final class ConnectionRecord {
    let id: ConnectionID
    let pool: PoolRecord
    let createdAt: PoolInstant
    /// nil: not in the pool (before registration, after removal).
    var state: ConnectionState?
    var schema: String?
    var lastUsedAt: PoolInstant
    var useCount = 0
    /// The client database of the current lease (counts against the database limit).
    var leasedDatabase: String?
    /// The waiting request this connect was started for (nil: an orphan anyone may adopt).
    var openedFor: Waiter?
    /// The waiting request this connection is being closed to make room for.
    var evictedFor: Waiter?
    /// The caller's placement hint (the funnel: the event loop the connection lives on).
    var affinity: Int?

    init(id: ConnectionID, pool: PoolRecord, now: PoolInstant) {
        self.id = id
        self.pool = pool
        self.createdAt = now
        self.lastUsedAt = now
    }
}

/// The connections of one (backend, user).
final class PoolRecord {
    let key: PoolKey
    let backend: BackendRecord
    let user: UserRecord
    /// Idle connections, least recently used first (hand-over takes from the end).
    var idle: [ConnectionRecord] = []
    var connecting: [ConnectionRecord] = []
    var counts = ConnectionCounts()
    var counters = ConnectionCounters()

    init(backend: BackendRecord, user: UserRecord) {
        self.key = PoolKey(backend: backend.id, user: user.name)
        self.backend = backend
        self.user = user
    }
}

final class BackendRecord {
    let id: BackendID
    var configuration: BackendConfiguration
    var removing = false
    var pools: [String: PoolRecord] = [:]
    var counts = ConnectionCounts()
    var counters = ConnectionCounters()
    var waitingFirstChoice = 0

    init(id: BackendID, configuration: BackendConfiguration) {
        self.id = id
        self.configuration = configuration
    }

    var isAvailable: Bool { configuration.acceptingNew && !removing }
}

final class UserRecord {
    let name: String
    var pools: [BackendID: PoolRecord] = [:]
    var counts = ConnectionCounts()
    var queue = WaitQueue()
    var waiting = 0
    var inRing = false
    var requests = RequestCounters()

    init(name: String) { self.name = name }
}

final class Waiter {
    let id: RequestID
    let user: UserRecord
    let database: String?
    let backends: BackendSelection
    /// Where the request would rather be served (the caller's event loop): idle connections
    /// with the same affinity are preferred, and connections opened for it get it.
    let affinity: Int?
    let enqueuedAt: PoolInstant
    let deadline: PoolInstant
    let sequence: UInt64
    var isWaiting = true
    /// The connection being opened for this request.
    var pending: ConnectionRecord?
    /// The idle connection being closed to make room for this request.
    var evicting: ConnectionRecord?
    /// First available candidate at enqueue time (for per-backend waiting numbers).
    var firstChoice: BackendRecord?
    /// Backends where a connect opened for this request failed: when another of its connects
    /// fails, it moves on only to a backend not in this list (no ping-pong between dead ones).
    var failedOn: [BackendID] = []

    init(id: RequestID, user: UserRecord, database: String?, backends: BackendSelection, affinity: Int?,
         enqueuedAt: PoolInstant, deadline: PoolInstant, sequence: UInt64) {
        self.id = id
        self.user = user
        self.database = database
        self.backends = backends
        self.affinity = affinity
        self.enqueuedAt = enqueuedAt
        self.deadline = deadline
        self.sequence = sequence
    }
}

/// One user's FIFO of waiters. Finished waiters are dropped lazily (cancel is O(1)); the
/// storage is compacted when dead entries outnumber live ones.
struct WaitQueue {
    private(set) var items: [Waiter] = []
    private(set) var head = 0
    /// Per affinity: no request of that affinity waits before this index (see `oldestWaiting(affinity:)`).
    private var affinityCursors: [Int] = []
    /// Every request queued since the queue was last empty wants the same database and
    /// candidates: when one of them is stuck, so is every later one, and a walk may stop there
    /// instead of visiting a flood of look-alikes.
    private(set) var isUniform = true

    mutating func append(_ waiter: Waiter) {
        if isUniform, let first = items.first, first.database != waiter.database || first.backends != waiter.backends {
            isUniform = false
        }
        items.append(waiter)
    }

    /// The oldest request still waiting (`tidy` keeps it at `head`).
    var oldestWaiting: Waiter? { head < items.count && items[head].isWaiting ? items[head] : nil }

    /// The oldest request still waiting with this affinity. A request only ever stops waiting
    /// and new ones are appended, so the cursor only moves forward until a compaction: the
    /// look-up costs a constant on average however long the queue.
    mutating func oldestWaiting(affinity: Int) -> Waiter? {
        guard affinity >= 0 else { return nil }
        if affinity >= affinityCursors.count {
            affinityCursors.append(contentsOf: repeatElement(0, count: affinity + 1 - affinityCursors.count))
        }
        var index = max(affinityCursors[affinity], head)
        while index < items.count, !(items[index].isWaiting && items[index].affinity == affinity) { index += 1 }
        affinityCursors[affinity] = index
        return index < items.count ? items[index] : nil
    }

    /// Drop finished waiters from the front, and compact when mostly dead.
    mutating func tidy(live: Int) {
        while head < items.count, !items[head].isWaiting { head += 1 }
        if live == 0 {
            items.removeAll(keepingCapacity: items.count < 1024)
            head = 0
            affinityCursors.removeAll(keepingCapacity: true)
            isUniform = true
        } else if items.count - head - live > max(32, live) || (head > 64 && head * 2 > items.count) {
            items.removeAll(where: { !$0.isWaiting })
            head = 0
            affinityCursors.removeAll(keepingCapacity: true)
        }
    }
}
