/// The pool of backend connections and its backlog, as a state machine: every public function
/// takes an event (with the current time) and returns the actions the caller must run. No I/O,
/// no clock, no locks: the caller serialises all calls (one event loop or one lock).
///
/// Serving rules, in order:
/// 1. A request takes an idle connection of its user on the first candidate backend that has one
///    (preferring one whose schema already matches), unless its database is at its in-use limit.
/// 2. Else it waits in the backlog (refused at once if the backlog is full), and a connection is
///    opened for it on the first candidate where no limit forbids it (or it adopts a connect
///    already under way that nobody waits for).
/// 3. Whenever something frees up, waiting users are served round-robin, one request per user per
///    round, FIFO within a user. A connection given back goes to the oldest request of the same
///    (backend, user) that can use it.
/// 4. When no waiting request can be served, a request blocked only by connection-count limits
///    closes one idle connection of another pool that holds a slot it needs (`.rebalance`), one
///    at a time per request: fairness across users beats reuse. Another user's connection goes
///    only once past `rebalanceHold` (open that long, and idle that long unless its user holds
///    more than its share), so a slot moves between users at most about once per hold instead
///    of once per request (each move is a login on the server).
/// 5. A failed connect fails the request it was opened for at once (`.connectFailed`), unless an
///    idle connection or another connect under way can serve it right away, or another candidate
///    backend it has not failed on can open one now (nothing was sent yet: moving is safe). Other
///    requests keep waiting (new connects may be tried for them). Every request has a deadline enforced by `tick`.
public final class ConnectionPool {
    public private(set) var configuration: PoolConfiguration

    var backends: [BackendID: BackendRecord] = [:]
    /// Backends in the order they were added (the order of `.any`).
    var backendOrder: [BackendRecord] = []
    var users: [String: UserRecord] = [:]
    /// The user of the last request: most requests come from the same user as the one before,
    /// and comparing a name costs less than hashing it.
    var lastUser: UserRecord?
    var connections: [ConnectionID: ConnectionRecord] = [:]
    var waiters: [RequestID: Waiter] = [:]
    /// Users with waiting requests, served round-robin from `ringCursor`.
    var ring: [UserRecord] = []
    var ringCursor = 0
    /// Some user in the ring has no waiting request left (pruned lazily by `dispatch`).
    var ringHasIdleUsers = false
    var totals = ConnectionCounts()
    var requests = RequestCounters()
    /// Leased connections by client database, kept only while some database limit exists (two
    /// hash lookups per lease otherwise spent on every query); `leasesByDatabase()` recounts.
    var databaseInUse: [String: Int] = [:]
    var tracksDatabases: Bool { configuration.hasDatabaseLimits }
    /// Waiting requests by client database, kept under the same rule (two hash lookups per
    /// request that waits); `waitingByDatabase()` recounts.
    var databaseWaiting: [String: Int] = [:]
    var nextConnection: UInt64 = 1
    var nextSequence: UInt64 = 0

    public init(configuration: PoolConfiguration = PoolConfiguration()) {
        self.configuration = configuration
    }

    deinit {
        for waiter in waiters.values { finish(waiter) }
        for connection in connections.values {
            connection.openedFor = nil
            connection.evictedFor = nil
        }
        for backend in backendOrder {
            for pool in backend.pools.values {
                pool.idle.removeAll()
                pool.connecting.removeAll()
            }
            backend.pools.removeAll()
        }
        for user in users.values { user.pools.removeAll() }
    }

    // MARK: Requests

    /// A client needs a connection for `user` (logged in on the backend) and `database`.
    /// Possible actions: `.handOver` (served at once), `.fail` (`.backlogFull`, `.noBackendAvailable`),
    /// `.connect` (the request waits for it), `.close` (`.rebalance`, to make room). No action:
    /// the request waits. `timeout` overrides the configured wait timeout. `affinity` is a
    /// placement hint: idle connections established with the same affinity go first.
    public func acquire(_ request: RequestID, user userName: String, database: String?,
                        backends selection: BackendSelection, now: PoolInstant,
                        timeout: PoolDuration? = nil, affinity: Int? = nil) throws(PoolError) -> PoolActions {
        guard waiters[request] == nil else { throw .duplicateRequest(request) }
        var actions = PoolActions()
        let user = userRecord(userName)
        // The balancer's first choice wins while it can serve at once (an idle connection, or
        // room to open one); reuse elsewhere would undo the balancing.
        if case .preferred(let ids) = selection, ids.count > 1, let preferred = ids.first.flatMap({ backends[$0] }),
           preferred.isAvailable, !isDatabaseFull(database) {
            if let connection = user.pools[preferred.id].flatMap({ pickIdle($0, for: database, affinity: affinity) }) {
                user.requests.servedImmediately += 1
                requests.servedImmediately += 1
                actions.append(.handOver(request, lease(connection, database: database, waited: .zero, now: now)))
                return actions
            }
            if openBlockers(preferred, user).isEmpty, backlogRefusal(user) == nil {
                let waiter = enqueue(request, user: user, database: database, backends: selection, affinity: affinity, now: now,
                                     deadline: now + (timeout ?? configuration.waitTimeout))
                open(poolRecord(preferred, user), for: waiter, now: now, into: &actions)
                return actions
            }
        }
        if !isDatabaseFull(database),
           let connection = idleCandidate(selection, user: user, database: database, affinity: affinity) {
            user.requests.servedImmediately += 1
            requests.servedImmediately += 1
            actions.append(.handOver(request, lease(connection, database: database, waited: .zero, now: now)))
            return actions
        }
        guard firstCandidate(selection, { $0 }) != nil else {
            user.requests.noBackend += 1
            requests.noBackend += 1
            actions.append(.fail(request, .noBackendAvailable))
            return actions
        }
        if let refusal = backlogRefusal(user) {
            user.requests.refusals += 1
            requests.refusals += 1
            actions.append(.fail(request, .backlogFull(refusal, pressure(user: user, database: database, backends: selection))))
            return actions
        }
        let waiter = enqueue(request, user: user, database: database, backends: selection, affinity: affinity, now: now,
                             deadline: now + (timeout ?? configuration.waitTimeout))
        // Nothing idle fits (looked for above, or the database is at its limit, which serve checks).
        if !serve(waiter, mayOpen: true, idleChecked: true, now: now, into: &actions) {
            _ = evict(for: waiter, now: now, into: &actions)
        }
        return actions
    }

    /// The client gave up (disconnected). The request leaves the backlog at once; unknown or
    /// already served requests are ignored (a hand-over may have crossed the cancel: the caller
    /// then releases that lease).
    public func cancel(_ request: RequestID, now: PoolInstant) -> PoolActions {
        var actions = PoolActions()
        guard let waiter = waiters[request] else { return actions }
        waiter.user.requests.cancels += 1
        requests.cancels += 1
        finish(waiter)
        dispatch(now: now, into: &actions)
        return actions
    }

    /// A client gives its leased connection back. `currentSchema`, if given, is the schema the
    /// connection really has now (e.g. the client ran `USE`).
    public func release(_ id: ConnectionID, _ disposition: ReleaseDisposition = .clean, now: PoolInstant,
                        currentSchema: String? = nil) throws(PoolError) -> PoolActions {
        let connection = try record(id)
        guard connection.state == .leased else {
            let target: ConnectionState = switch disposition {
            case .clean: .idle
            case .needsReset: .resetting
            case .close: .closing
            }
            throw .invalidTransition(id, from: connection.state, to: target)
        }
        if let currentSchema { connection.schema = currentSchema }
        connection.lastUsedAt = now
        var actions = PoolActions()
        switch disposition {
        case .close:
            close(connection, .discarded, into: &actions)
        case .needsReset:
            if let reason = retirementReason(connection, now: now) {
                close(connection, reason, into: &actions)
            } else {
                mustMove(connection, to: .resetting)
                connection.pool.counters.resets += 1
                connection.pool.backend.counters.resets += 1
                actions.append(.reset(id))
            }
        case .clean:
            returnToService(connection, now: now, into: &actions)
        }
        dispatch(now: now, into: &actions)
        return actions
    }

    // MARK: Connection events

    /// A `.connect` succeeded. `schema` is the database selected at login, if any; `affinity`
    /// is the connection's placement (see `acquire`).
    /// The connection goes to the request it was opened for, else to the oldest request that can use it.
    public func connectionEstablished(_ id: ConnectionID, now: PoolInstant, schema: String? = nil,
                                      affinity: Int? = nil) throws(PoolError) -> PoolActions {
        let connection = try record(id)
        guard connection.state == .connecting else { throw .invalidTransition(id, from: connection.state, to: .idle) }
        let waiter = connection.openedFor
        connection.schema = schema
        connection.affinity = affinity
        connection.lastUsedAt = now
        connection.pool.counters.connectsSucceeded += 1
        connection.pool.backend.counters.connectsSucceeded += 1
        var actions = PoolActions()
        returnToService(connection, now: now, into: &actions)
        if let waiter, waiter.isWaiting, connection.state == .idle, !isDatabaseFull(waiter.database) {
            handOver(waiter, connection, now: now, into: &actions)
        }
        dispatch(now: now, into: &actions)
        return actions
    }

    /// A `.connect` failed; its slot is free again. See rule 5 in the type's documentation.
    public func connectionFailed(_ id: ConnectionID, now: PoolInstant, error message: String) throws(PoolError) -> PoolActions {
        let connection = try record(id)
        guard connection.state == .connecting else { throw .invalidTransition(id, from: connection.state, to: nil) }
        var actions = PoolActions()
        fail(connecting: connection, message: message, now: now, into: &actions)
        dispatch(now: now, into: &actions)
        return actions
    }

    /// The answer to a `.reset` action.
    public func resetCompleted(_ id: ConnectionID, ok: Bool, now: PoolInstant) throws(PoolError) -> PoolActions {
        let connection = try record(id)
        guard connection.state == .resetting else {
            throw .invalidTransition(id, from: connection.state, to: ok ? .idle : .closing)
        }
        var actions = PoolActions()
        connection.lastUsedAt = now
        if ok {
            returnToService(connection, now: now, into: &actions)
        } else {
            connection.pool.counters.resetFailures += 1
            connection.pool.backend.counters.resetFailures += 1
            close(connection, .resetFailed, into: &actions)
        }
        dispatch(now: now, into: &actions)
        return actions
    }

    /// A `.close` action has completed: the slot is free.
    public func connectionClosed(_ id: ConnectionID, now: PoolInstant) throws(PoolError) -> PoolActions {
        let connection = try record(id)
        guard connection.state == .closing else { throw .invalidTransition(id, from: connection.state, to: nil) }
        var actions = PoolActions()
        let evictedFor = connection.evictedFor
        mustMove(connection, to: nil)
        removeBackendIfDone(connection.pool.backend)
        // The slot was freed for this request: it goes first.
        if let evictedFor, evictedFor.isWaiting { _ = serve(evictedFor, mayOpen: true, now: now, into: &actions) }
        dispatch(now: now, into: &actions)
        return actions
    }

    /// The connection died on its own (socket closed, server gone), in any state. It is removed
    /// at once (no `.close` action). A connecting one counts as a failed connect.
    public func connectionLost(_ id: ConnectionID, now: PoolInstant) throws(PoolError) -> PoolActions {
        let connection = try record(id)
        var actions = PoolActions()
        switch connection.state {
        case .connecting?:
            fail(connecting: connection, message: "connection lost", now: now, into: &actions)
        case .closing?:
            mustMove(connection, to: nil)
        case .idle?, .leased?, .resetting?:
            close(connection, .lost, emit: false, into: &actions)
            mustMove(connection, to: nil)
        case nil:
            throw .unknownConnection(id)
        }
        removeBackendIfDone(connection.pool.backend)
        dispatch(now: now, into: &actions)
        return actions
    }

    // MARK: Maintenance

    /// Call regularly (e.g. every 100 ms): fails requests past their deadline, closes idle
    /// connections past the idle timeout or max lifetime, serves what can be served, and opens
    /// connections to keep `minIdle` per pool.
    public func tick(now: PoolInstant) -> PoolActions {
        var actions = PoolActions()
        if !waiters.isEmpty {
            let expired = waiters.values.filter { $0.deadline <= now }.sorted { $0.sequence < $1.sequence }
            // Numbers as they were when the deadlines passed, before any of these requests left.
            let pressures = expired.map { pressure(user: $0.user, database: $0.database, backends: $0.backends) }
            for (waiter, pressure) in zip(expired, pressures) {
                waiter.user.requests.timeouts += 1
                requests.timeouts += 1
                finish(waiter)
                actions.append(.fail(waiter.id, .timeout(waited: now.duration(since: waiter.enqueuedAt), pressure)))
            }
        }
        for backend in backendOrder {
            for pool in backend.pools.values where !pool.idle.isEmpty {
                retireIdle(pool, now: now, into: &actions)
            }
        }
        dispatch(now: now, into: &actions)
        let warming = actions.endIndex
        for backend in backendOrder where backend.isAvailable {
            for pool in backend.pools.values { warm(pool, now: now, into: &actions) }
        }
        // A request that may not open on a backend (a connect of its own failed there) adopts a
        // warming connect there instead.
        if actions.endIndex > warming, !waiters.isEmpty { dispatch(now: now, into: &actions) }
        return actions
    }

    /// Replace the pool-wide configuration. Lowered limits take effect as connections come back
    /// (surplus connections close on release); raised ones serve waiting requests at once.
    public func updateConfiguration(_ configuration: PoolConfiguration, now: PoolInstant) -> PoolActions {
        let tracked = tracksDatabases
        self.configuration = configuration
        if tracked != tracksDatabases {
            databaseInUse = tracksDatabases ? leasesByDatabase() : [:]
            databaseWaiting = tracksDatabases ? waitingByDatabase() : [:]
        }
        var actions = PoolActions()
        dispatch(now: now, into: &actions)
        return actions
    }

    // MARK: Reading

    /// Requests in the backlog.
    public var waitingCount: Int { waiters.count }

    public func isWaiting(_ request: RequestID) -> Bool { waiters[request] != nil }

    /// The earliest deadline in the backlog (to arm a timer instead of ticking blindly). O(n).
    public var nextDeadline: PoolInstant? { waiters.values.lazy.map(\.deadline).min() }

    /// The connections of one (backend, user) pool, by state (zero when it has none).
    public func counts(backend: BackendID, user: String) -> ConnectionCounts {
        backends[backend]?.pools[user]?.counts ?? ConnectionCounts()
    }

    /// The affinity of the request a connect was started for (where to open the connection).
    public func wantedAffinity(_ id: ConnectionID) -> Int? { connections[id]?.openedFor?.affinity }

    public func connectionInfo(_ id: ConnectionID) -> ConnectionInfo? {
        guard let c = connections[id], let state = c.state else { return nil }
        return ConnectionInfo(id: id, key: c.pool.key, state: state, schema: c.schema, createdAt: c.createdAt,
                              lastUsedAt: c.lastUsedAt, useCount: c.useCount)
    }
}

/// One connection as the pool sees it.
public struct ConnectionInfo: Sendable, Equatable {
    public var id: ConnectionID
    public var key: PoolKey
    public var state: ConnectionState
    public var schema: String?
    public var createdAt: PoolInstant
    public var lastUsedAt: PoolInstant
    public var useCount: Int
}
