/// What keeps a new connection from being opened on a backend for a user.
struct OpenBlockers: OptionSet {
    let rawValue: UInt8
    static let unavailable = OpenBlockers(rawValue: 1)
    static let backend = OpenBlockers(rawValue: 2)
    static let global = OpenBlockers(rawValue: 4)
    static let user = OpenBlockers(rawValue: 8)
}

extension ConnectionPool {
    func userRecord(_ name: String) -> UserRecord {
        if let last = lastUser, last.name == name { return last }
        if let user = users[name] {
            lastUser = user
            return user
        }
        let user = UserRecord(name: name)
        users[name] = user
        return user
    }

    func poolRecord(_ backend: BackendRecord, _ user: UserRecord) -> PoolRecord {
        if let pool = user.pools[backend.id] { return pool }
        let pool = PoolRecord(backend: backend, user: user)
        backend.pools[user.name] = pool
        user.pools[backend.id] = pool
        return pool
    }

    func userLimit(_ user: String) -> Int? {
        configuration.userConnectionLimits.isEmpty ? configuration.maxConnectionsPerUser : configuration.userLimit(user)
    }

    /// An idle connection of `user` fit for the request, on the first available candidate that has one.
    func idleCandidate(_ selection: BackendSelection, user: UserRecord, database: String?, affinity: Int?) -> ConnectionRecord? {
        switch selection {
        case .ordered(let ids), .preferred(let ids):
            // A user's pools are exactly those on known backends: one lookup, not backend then pool.
            for id in ids {
                if let pool = user.pools[id], pool.backend.isAvailable, let connection = pickIdle(pool, for: database, affinity: affinity) {
                    return connection
                }
            }
            return nil
        case .any:
            return firstCandidate(selection) { user.pools[$0.id].flatMap { pickIdle($0, for: database, affinity: affinity) } }
        }
    }

    /// The first available candidate for which `body` returns a value.
    func firstCandidate<T>(_ selection: BackendSelection, _ body: (BackendRecord) -> T?) -> T? {
        switch selection {
        case .ordered(let ids), .preferred(let ids):
            for id in ids {
                if let backend = backends[id], backend.isAvailable, let result = body(backend) { return result }
            }
        case .any:
            for backend in backendOrder where backend.isAvailable {
                if let result = body(backend) { return result }
            }
        }
        return nil
    }

    func isDatabaseFull(_ database: String?) -> Bool {
        guard let database, configuration.hasDatabaseLimits, let max = configuration.databaseLimit(database) else { return false }
        return databaseInUse[database, default: 0] >= max
    }

    /// Whether some backend would let `user` open a connection now (no open blocker at all).
    func mayOpenAny(for user: UserRecord) -> Bool {
        if let max = configuration.maxConnections, totals.total >= max { return false }
        if let max = userLimit(user.name), user.counts.total >= max { return false }
        return backends.values.contains { $0.isAvailable && $0.counts.total < $0.configuration.maxConnections }
    }

    func openBlockers(_ backend: BackendRecord, _ user: UserRecord) -> OpenBlockers {
        var blockers: OpenBlockers = []
        if !backend.isAvailable { blockers.insert(.unavailable) }
        if backend.counts.total >= backend.configuration.maxConnections { blockers.insert(.backend) }
        if let max = configuration.maxConnections, totals.total >= max { blockers.insert(.global) }
        if let max = userLimit(user.name), user.counts.total >= max { blockers.insert(.user) }
        return blockers
    }

    /// An idle connection, preferring one of the few most recent whose schema already matches.
    /// The idle connection to hand over: among the most recently used few, one on the wanted
    /// schema and with the request's affinity, else one on the wanted schema, else the newest.
    func pickIdle(_ pool: PoolRecord, for database: String?, affinity: Int?) -> ConnectionRecord? {
        guard let newest = pool.idle.last else { return nil }
        var onSchema: ConnectionRecord?
        var index = pool.idle.count - 1
        let stop = max(0, pool.idle.count - 8)
        while index >= stop {
            let candidate = pool.idle[index]
            if database == nil || candidate.schema == database {
                if affinity == nil || candidate.affinity == affinity { return candidate }
                if onSchema == nil { onSchema = candidate }
            }
            index -= 1
        }
        return onSchema ?? newest
    }

    func backlogRefusal(_ user: UserRecord) -> BacklogLimit? {
        if let max = configuration.maxWaiting, waiters.count >= max { return .global(max: max) }
        if let max = configuration.maxWaitingPerUser, user.waiting >= max { return .user(user.name, max: max) }
        return nil
    }

    func pressure(user: UserRecord, database: String?, backends selection: BackendSelection) -> PoolPressure {
        let first = firstCandidate(selection) { $0 }
        func make(_ limit: PoolLimit?, inUse: Int, open: Int, waiting: Int) -> PoolPressure {
            PoolPressure(limit: limit, backend: first?.id, user: user.name, database: database,
                         inUse: inUse, open: open, waiting: waiting)
        }
        if let database, let max = configuration.databaseLimit(database), databaseInUse[database, default: 0] >= max {
            let inUse = databaseInUse[database, default: 0]
            return make(.database(database, max: max), inUse: inUse, open: inUse, waiting: databaseWaiting[database, default: 0])
        }
        if let backend = first {
            let blockers = openBlockers(backend, user)
            if blockers.contains(.user), let max = userLimit(user.name) {
                return make(.user(user.name, max: max), inUse: user.counts.leased, open: user.counts.total, waiting: user.waiting)
            }
            if blockers.contains(.backend) {
                return make(.backend(backend.id, max: backend.configuration.maxConnections), inUse: backend.counts.leased,
                            open: backend.counts.total, waiting: backend.waitingFirstChoice)
            }
            if blockers.contains(.global), let max = configuration.maxConnections {
                return make(.global(max: max), inUse: totals.leased, open: totals.total, waiting: waiters.count)
            }
        }
        let pool = first.flatMap { $0.pools[user.name] }
        return make(nil, inUse: pool?.counts.leased ?? 0, open: pool?.counts.total ?? 0, waiting: user.waiting)
    }

    // MARK: The backlog

    func enqueue(_ id: RequestID, user: UserRecord, database: String?, backends selection: BackendSelection,
                 affinity: Int?, now: PoolInstant, deadline: PoolInstant) -> Waiter {
        let waiter = Waiter(id: id, user: user, database: database, backends: selection, affinity: affinity, enqueuedAt: now,
                            deadline: deadline, sequence: nextSequence)
        nextSequence += 1
        waiters[id] = waiter
        user.queue.append(waiter)
        user.waiting += 1
        if !user.inRing {
            user.inRing = true
            ring.append(user)
        }
        if let first = firstCandidate(selection, { $0 }) {
            waiter.firstChoice = first
            first.waitingFirstChoice += 1
        }
        if tracksDatabases, let database { databaseWaiting[database, default: 0] += 1 }
        user.requests.queued += 1
        requests.queued += 1
        user.requests.maxWaitingSeen = max(user.requests.maxWaitingSeen, user.waiting)
        requests.maxWaitingSeen = max(requests.maxWaitingSeen, waiters.count)
        return waiter
    }

    /// The request leaves the backlog (served, failed, cancelled); its pending connect becomes
    /// an orphan that another request may adopt.
    func finish(_ waiter: Waiter) {
        waiter.isWaiting = false
        waiters[waiter.id] = nil
        waiter.pending?.openedFor = nil
        waiter.pending = nil
        waiter.evicting?.evictedFor = nil
        waiter.evicting = nil
        waiter.firstChoice?.waitingFirstChoice -= 1
        waiter.firstChoice = nil
        if tracksDatabases, let database = waiter.database {
            let left = databaseWaiting[database, default: 1] - 1
            databaseWaiting[database] = left == 0 ? nil : left
        }
        let user = waiter.user
        user.waiting -= 1
        user.queue.tidy(live: user.waiting)
        if user.waiting == 0 { ringHasIdleUsers = true }
    }

    func handOver(_ waiter: Waiter, _ connection: ConnectionRecord, now: PoolInstant, into actions: inout PoolActions) {
        let waited = now.duration(since: waiter.enqueuedAt)
        waiter.user.requests.servedAfterWait += 1
        waiter.user.requests.totalWait.nanoseconds += waited.nanoseconds
        requests.servedAfterWait += 1
        requests.totalWait.nanoseconds += waited.nanoseconds
        finish(waiter)
        actions.append(.handOver(waiter.id, lease(connection, database: waiter.database, waited: waited, now: now)))
    }

    /// The idle connection `waiter` would get now, if any.
    func idleConnection(for waiter: Waiter) -> ConnectionRecord? {
        if isDatabaseFull(waiter.database) { return nil }
        return idleCandidate(waiter.backends, user: waiter.user, database: waiter.database, affinity: waiter.affinity)
    }

    /// Try to move a waiting request forward: hand it an idle connection, let it adopt a connect
    /// nobody waits for, or (if `mayOpen`) open one, on none of the backends a connect of its own
    /// failed on (no retry storm on a backend that refuses). True if it moved. `idleChecked`: the
    /// caller already found no idle connection for it.
    func serve(_ waiter: Waiter, mayOpen: Bool, idleChecked: Bool = false, now: PoolInstant, into actions: inout PoolActions) -> Bool {
        if isDatabaseFull(waiter.database) { return false }
        if !idleChecked, let connection = idleConnection(for: waiter) {
            handOver(waiter, connection, now: now, into: &actions)
            return true
        }
        guard waiter.pending == nil else { return false }
        if totals.connecting > 0, let orphan = firstCandidate(waiter.backends, { waiter.user.pools[$0.id]?.connecting.first { $0.openedFor == nil } }) {
            orphan.openedFor = waiter
            waiter.pending = orphan
            return true
        }
        guard mayOpen, let backend = firstCandidate(waiter.backends, { candidate in
            openBlockers(candidate, waiter.user).isEmpty && !waiter.failedOn.contains(candidate.id) ? candidate : nil
        }) else {
            return false
        }
        open(poolRecord(backend, waiter.user), for: waiter, now: now, into: &actions)
        return true
    }

    /// Serve waiting users round-robin (one move per user per round, FIFO within a user) until
    /// nothing moves; the next round starts after the last user that moved. Then let requests
    /// that are still blocked close idle connections nobody can use (rule 4).
    func dispatch(now: PoolInstant, into actions: inout PoolActions) {
        if !waiters.isEmpty {
            // The ring does not change shape during the rounds (emptied users are pruned after).
            let count = ring.count
            var moved = true
            while moved, count > 0 {
                moved = false
                let start = ringCursor
                for step in 0..<count {
                    let index = (start + step) % count
                    if serveNext(of: ring[index], now: now, into: &actions) {
                        moved = true
                        ringCursor = (index + 1) % count
                    }
                }
            }
            if totals.idle > 0, !waiters.isEmpty { evictionRound(now: now, into: &actions) }
        }
        pruneRing()
    }

    /// Drop users without waiting requests from the ring, keeping the cursor on the same user.
    func pruneRing() {
        guard ringHasIdleUsers else { return }
        ringHasIdleUsers = false
        var kept: [UserRecord] = []
        var cursor = 0
        for (index, user) in ring.enumerated() {
            if user.waiting > 0 {
                if index < ringCursor { cursor += 1 }
                kept.append(user)
            } else {
                user.inRing = false
            }
        }
        ring = kept
        ringCursor = kept.isEmpty ? 0 : cursor % kept.count
    }

    /// `user`'s turn: the oldest request that can be served, else a fair-share eviction.
    /// Requests identical to one found stuck (same database and candidates) are skipped.
    private func serveNext(of user: UserRecord, now: PoolInstant, into actions: inout PoolActions) -> Bool {
        guard user.waiting > 0 else { return false }
        // With nothing idle, no connect under way and no room to open one, no request of the
        // user can move (and there is nothing to evict): the common state of a busy pool with a
        // long backlog, which would otherwise cost a walk over the whole queue per release.
        if totals.idle == 0, totals.connecting == 0, !mayOpenAny(for: user) { return false }
        let items = user.queue.items
        var stuck: (database: String?, backends: BackendSelection, onlyIdleChecked: Bool)?
        for index in user.queue.head..<items.count {
            let waiter = items[index]
            guard waiter.isWaiting else { continue }
            if let stuck, stuck.database == waiter.database, stuck.backends == waiter.backends,
               !stuck.onlyIdleChecked || waiter.pending != nil {
                continue
            }
            if let idle = idleConnection(for: waiter) {
                // Under pressure the connection may go to the oldest request of its own loop instead.
                let taker = sameAffinityWaiter(of: waiter, for: idle, user: user, now: now) ?? waiter
                handOver(taker, idle, now: now, into: &actions)
                return true
            }
            if serve(waiter, mayOpen: true, idleChecked: true, now: now, into: &actions) { return true }
            // Held back by its own failed connects, not by the pool: a request behind it may open.
            if !waiter.failedOn.isEmpty { continue }
            if user.queue.isUniform, waiter.pending == nil { break }
            stuck = (waiter.database, waiter.backends, waiter.pending != nil)
        }
        guard totals.idle > 0 else { return false }
        return evictForFirstBlocked(of: user, fairShareOnly: true, now: now, into: &actions)
    }

    /// How much later than the oldest request one that passes it may have arrived: this, or a
    /// quarter of what the oldest one has waited so far, whichever is more.
    public static let affinitySkew = PoolDuration.milliseconds(1)

    /// Under pressure a connection coming back goes to the oldest request, usually on another
    /// event loop than the connection's (a thread hop for every packet of that transaction).
    /// When the oldest one would get a connection of another affinity, the oldest request with
    /// the connection's affinity takes it instead if it wants the same pool and database and
    /// arrived soon after (`affinitySkew`, or a quarter of the oldest one's wait); the oldest one
    /// keeps its place for the next. Each loop queues its clients' requests in runs, one per
    /// batch of reads, so the other loop's oldest request is often dozens of places behind.
    /// The skew bounds what passing costs: only requests that arrived within a quarter of a
    /// request's wait after it can go first, so while requests arrive no faster than they are
    /// served, one waits at most about a third longer than in strict order, however the
    /// connections are spread over the loops. Returns nil when that does not apply.
    private func sameAffinityWaiter(of waiter: Waiter, for connection: ConnectionRecord, user: UserRecord,
                                    now: PoolInstant) -> Waiter? {
        guard let wanted = waiter.affinity, let affinity = connection.affinity, affinity != wanted,
              let other = user.queue.oldestWaiting(affinity: affinity),
              other.database == waiter.database, other.backends == waiter.backends else { return nil }
        let waited = now.duration(since: waiter.enqueuedAt).nanoseconds
        guard other.enqueuedAt <= waiter.enqueuedAt + max(Self.affinitySkew, .nanoseconds(waited / 4)) else { return nil }
        return other
    }

    /// After the rounds nobody can use the idle connections left: blocked requests may close them.
    private func evictionRound(now: PoolInstant, into actions: inout PoolActions) {
        for user in ring where user.waiting > 0 {
            _ = evictForFirstBlocked(of: user, fairShareOnly: false, now: now, into: &actions)
            if totals.idle == 0 { return }
        }
    }

    private func evictForFirstBlocked(of user: UserRecord, fairShareOnly: Bool, now: PoolInstant,
                                      into actions: inout PoolActions) -> Bool {
        let items = user.queue.items
        var stuck: (database: String?, backends: BackendSelection)?
        for index in user.queue.head..<items.count {
            let waiter = items[index]
            guard waiter.isWaiting, waiter.pending == nil, waiter.evicting == nil else { continue }
            if let stuck, stuck.database == waiter.database, stuck.backends == waiter.backends { continue }
            if evict(for: waiter, fairShareOnly: fairShareOnly, now: now, into: &actions) { return true }
            if user.queue.isUniform { break }
            stuck = (waiter.database, waiter.backends)
        }
        return false
    }

    /// Close one idle connection whose slot would let `waiter` open a connection (rule 4).
    /// With `fairShareOnly`, only take it from a user that holds more than its share: more
    /// connections (in the blocking scope) than the waiter's user plus one, or exactly one more
    /// and no waiting request older than this one. Otherwise any idle connection in scope.
    func evict(for waiter: Waiter, fairShareOnly: Bool = false, now: PoolInstant, into actions: inout PoolActions) -> Bool {
        guard waiter.evicting == nil, waiter.pending == nil, totals.idle > 0, !isDatabaseFull(waiter.database) else { return false }
        let victim: ConnectionRecord? = firstCandidate(waiter.backends) { backend in
            let blockers = openBlockers(backend, waiter.user)
            guard !blockers.isEmpty, !blockers.contains(.unavailable) else { return nil }
            return evictionVictim(blockers, backend: backend, for: waiter, fairShareOnly: fairShareOnly, now: now)
        }
        guard let victim else { return false }
        close(victim, .rebalance, into: &actions)
        victim.evictedFor = waiter
        waiter.evicting = victim
        return true
    }

    /// The least recently used idle connection that may go, from the pool with most idle ones,
    /// among those that hold a slot of every limit in `blockers`. Another user's connection goes
    /// only past the rebalance hold: open that long, and idle that long too unless its user holds
    /// more than its share (more connections in the blocking scope than the waiter's user plus
    /// one, or exactly one more and no waiting request older than the waiter).
    private func evictionVictim(_ blockers: OpenBlockers, backend: BackendRecord, for waiter: Waiter,
                                fairShareOnly: Bool, now: PoolInstant) -> ConnectionRecord? {
        let user = waiter.user
        let hold = configuration.rebalanceHold
        var best: (pool: PoolRecord, victim: ConnectionRecord)?
        func held(_ counts: ConnectionCounts) -> Int { counts.total - counts.closing }
        func holdsMoreThanItsShare(_ pool: PoolRecord) -> Bool {
            let mine: Int, theirs: Int
            if blockers.contains(.backend) {
                mine = user.pools[backend.id].map { held($0.counts) } ?? 0
                theirs = held(pool.counts)
            } else {
                mine = held(user.counts)
                theirs = held(pool.user.counts)
            }
            let theirOldest = pool.user.queue.oldestWaiting?.sequence ?? .max
            return theirs > mine + 1 || (theirs == mine + 1 && theirOldest > waiter.sequence)
        }
        func consider(_ pool: PoolRecord) {
            guard !pool.idle.isEmpty, pool.idle.count > (best?.pool.idle.count ?? 0) else { return }
            if pool.user === user {
                guard !fairShareOnly, let victim = pool.idle.first else { return }
                best = (pool, victim)
                return
            }
            let overShare = holdsMoreThanItsShare(pool)
            if fairShareOnly, !overShare { return }
            let victim = pool.idle.first { connection in
                hold == .zero || (now.duration(since: connection.createdAt) >= hold
                    && (overShare || now.duration(since: connection.lastUsedAt) >= hold))
            }
            if let victim { best = (pool, victim) }
        }
        if blockers.contains(.backend) {
            if blockers.contains(.user) {
                if !fairShareOnly, let pool = user.pools[backend.id] { consider(pool) }
            } else {
                for pool in backend.pools.values { consider(pool) }
            }
        } else if blockers.contains(.user) {
            if !fairShareOnly { for pool in user.pools.values { consider(pool) } }
        } else {
            for other in backendOrder { for pool in other.pools.values { consider(pool) } }
        }
        return best?.victim
    }

    /// Fail waiting requests none of whose candidates can serve them any more.
    func failUnservable(into actions: inout PoolActions) {
        for user in ring {
            for waiter in user.queue.items where waiter.isWaiting && firstCandidate(waiter.backends, { $0 }) == nil {
                user.requests.noBackend += 1
                requests.noBackend += 1
                finish(waiter)
                actions.append(.fail(waiter.id, .noBackendAvailable))
            }
        }
    }
}
