extension ConnectionPool {
    /// The only place a connection changes state: rejects moves outside `ConnectionState.isValidMove`
    /// and keeps every list and count (pool, backend, user, totals, database leases) in step.
    func move(_ connection: ConnectionRecord, to new: ConnectionState?) throws(PoolError) {
        let old = connection.state
        guard ConnectionState.isValidMove(from: old, to: new) else {
            throw .invalidTransition(connection.id, from: old, to: new)
        }
        let pool = connection.pool
        if let old {
            adjust(pool, old, by: -1)
            switch old {
            case .idle:
                if pool.idle.last === connection {
                    pool.idle.removeLast()
                } else if let index = pool.idle.firstIndex(where: { $0 === connection }) {
                    pool.idle.remove(at: index)
                }
            case .connecting:
                if let index = pool.connecting.firstIndex(where: { $0 === connection }) { pool.connecting.remove(at: index) }
                connection.openedFor?.pending = nil
                connection.openedFor = nil
            case .leased:
                if tracksDatabases, let database = connection.leasedDatabase {
                    let left = databaseInUse[database, default: 1] - 1
                    databaseInUse[database] = left == 0 ? nil : left
                }
                connection.leasedDatabase = nil
            case .closing:
                connection.evictedFor?.evicting = nil
                connection.evictedFor = nil
            case .resetting:
                break
            }
        } else {
            connections[connection.id] = connection
        }
        if let new {
            adjust(pool, new, by: 1)
            switch new {
            case .idle: pool.idle.append(connection)
            case .connecting: pool.connecting.append(connection)
            case .leased:
                connection.useCount += 1
                if tracksDatabases, let database = connection.leasedDatabase { databaseInUse[database, default: 0] += 1 }
            case .resetting, .closing: break
            }
        } else {
            connections[connection.id] = nil
        }
        connection.state = new
    }

    /// A move the pool itself decided on; an invalid one is a bug in the pool.
    func mustMove(_ connection: ConnectionRecord, to new: ConnectionState?) {
        do {
            try move(connection, to: new)
        } catch {
            preconditionFailure("pool bug: \(error)")
        }
    }

    private func adjust(_ pool: PoolRecord, _ state: ConnectionState, by delta: Int) {
        pool.counts[state] += delta
        pool.backend.counts[state] += delta
        pool.user.counts[state] += delta
        totals[state] += delta
    }

    func record(_ id: ConnectionID) throws(PoolError) -> ConnectionRecord {
        guard let connection = connections[id] else { throw .unknownConnection(id) }
        return connection
    }

    // MARK: Opening, leasing, closing

    func open(_ pool: PoolRecord, for waiter: Waiter?, now: PoolInstant, into actions: inout PoolActions) {
        let connection = ConnectionRecord(id: ConnectionID(nextConnection), pool: pool, now: now)
        nextConnection += 1
        mustMove(connection, to: .connecting)
        if let waiter {
            connection.openedFor = waiter
            waiter.pending = connection
        }
        pool.counters.connectsStarted += 1
        pool.backend.counters.connectsStarted += 1
        actions.append(.connect(connection.id, backend: pool.key.backend, user: pool.key.user))
    }

    func lease(_ connection: ConnectionRecord, database: String?, waited: PoolDuration, now: PoolInstant) -> Lease {
        let needsPing = configuration.pingAfterIdle.map { now.duration(since: connection.lastUsedAt) >= $0 } ?? false
        let needsSchemaChange = database != nil && database != connection.schema
        connection.leasedDatabase = database
        mustMove(connection, to: .leased)
        connection.lastUsedAt = now
        if let database { connection.schema = database }
        let pool = connection.pool
        pool.counters.handOvers += 1
        pool.backend.counters.handOvers += 1
        return Lease(connection: connection.id, backend: pool.key.backend, needsSchemaChange: needsSchemaChange,
                     needsPing: needsPing, waited: waited, useCount: connection.useCount)
    }

    func close(_ connection: ConnectionRecord, _ reason: CloseReason, emit: Bool = true, into actions: inout PoolActions) {
        mustMove(connection, to: .closing)
        connection.pool.counters.closes[reason, default: 0] += 1
        connection.pool.backend.counters.closes[reason, default: 0] += 1
        if emit { actions.append(.close(connection.id, reason)) }
    }

    /// Why a connection coming back (released, reset, just opened) must not be reused.
    func retirementReason(_ connection: ConnectionRecord, now: PoolInstant) -> CloseReason? {
        let backend = connection.pool.backend
        if !backend.isAvailable { return .backendUnavailable }
        if let lifetime = configuration.maxLifetime, now.duration(since: connection.createdAt) >= lifetime {
            return .maxLifetime
        }
        // Over a lowered limit, counting what stays (closing connections are on their way out).
        func held(_ counts: ConnectionCounts) -> Int { counts.total - counts.closing }
        if held(backend.counts) > backend.configuration.maxConnections { return .overLimit }
        if let max = configuration.maxConnections, held(totals) > max { return .overLimit }
        if let max = userLimit(connection.pool.user.name), held(connection.pool.user.counts) > max { return .overLimit }
        return nil
    }

    /// Make a connection that came back idle, or close it if it must not be reused.
    func returnToService(_ connection: ConnectionRecord, now: PoolInstant, into actions: inout PoolActions) {
        guard let reason = retirementReason(connection, now: now) else {
            mustMove(connection, to: .idle)
            return
        }
        if connection.state == .connecting { mustMove(connection, to: .idle) }
        close(connection, reason, into: &actions)
    }

    /// A connect failed (or its socket died before it was established). Its request moves on to
    /// an idle connection or a connect under way, else to another candidate backend it has not
    /// failed on that can open one now (nothing was sent yet, so another backend is safe), else
    /// it waits on if a connection of its user on one of its backends is in use and will come
    /// back (a connect refused on a busy pool, say with "too many connections", costs a wait up
    /// to the backlog timeout, not an error), else it fails.
    func fail(connecting connection: ConnectionRecord, message: String, now: PoolInstant, into actions: inout PoolActions) {
        let waiter = connection.openedFor
        mustMove(connection, to: nil)
        connection.pool.counters.connectsFailed += 1
        connection.pool.backend.counters.connectsFailed += 1
        waiter?.failedOn.append(connection.pool.key.backend)
        if let waiter, waiter.isWaiting, !serve(waiter, mayOpen: true, now: now, into: &actions),
           !mayComeBack(to: waiter) {
            waiter.user.requests.connectFailures += 1
            requests.connectFailures += 1
            finish(waiter)
            actions.append(.fail(waiter.id, .connectFailed(backend: connection.pool.key.backend,
                                                          user: connection.pool.key.user, message: message)))
        }
        removeBackendIfDone(connection.pool.backend)
    }

    /// Whether a connection of the request's user on one of its available backends is being
    /// opened, in use or being reset, so that it may come to the request later.
    func mayComeBack(to waiter: Waiter) -> Bool {
        let busy: BackendRecord? = firstCandidate(waiter.backends) { backend in
            guard let pool = waiter.user.pools[backend.id], pool.counts.connecting + pool.counts.leased + pool.counts.resetting > 0 else {
                return nil
            }
            return backend
        }
        return busy != nil
    }

    func retireIdle(_ pool: PoolRecord, now: PoolInstant, into actions: inout PoolActions) {
        if let lifetime = configuration.maxLifetime {
            for connection in pool.idle where now.duration(since: connection.createdAt) >= lifetime {
                close(connection, .maxLifetime, into: &actions)
            }
        }
        if let idleTimeout = configuration.idleTimeout {
            let keep = minIdle(pool)
            // `idle` is ordered by the time connections came back, oldest first.
            while pool.idle.count > keep, let oldest = pool.idle.first, now.duration(since: oldest.lastUsedAt) >= idleTimeout {
                close(oldest, .idleTimeout, into: &actions)
            }
        }
    }

    func warm(_ pool: PoolRecord, now: PoolInstant, into actions: inout PoolActions) {
        let target = minIdle(pool)
        var have = pool.counts.idle + pool.counts.connecting
        while have < target, openBlockers(pool.backend, pool.user).isEmpty {
            open(pool, for: nil, now: now, into: &actions)
            have += 1
        }
    }

    func minIdle(_ pool: PoolRecord) -> Int {
        pool.backend.configuration.minIdlePerUser ?? configuration.minIdlePerPool
    }
}
