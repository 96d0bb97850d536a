extension ConnectionPool {
    /// Add a backend (or bring back one that is still closing connections after `removeBackend`).
    /// Waiting requests that list it (or accept `.any`) are served at once.
    public func addBackend(_ id: BackendID, _ configuration: BackendConfiguration, now: PoolInstant) throws(PoolError) -> PoolActions {
        let backend: BackendRecord
        if let existing = backends[id] {
            guard existing.removing else { throw .backendExists(id) }
            existing.removing = false
            existing.configuration = configuration
            backend = existing
        } else {
            backend = BackendRecord(id: id, configuration: configuration)
            backends[id] = backend
            backendOrder.append(backend)
        }
        return backendChanged(backend, now: now)
    }

    /// Change a backend's limit or flags. A lowered limit closes surplus idle connections at once
    /// and the rest as they are released; `acceptingNew: false` drains (see `drainBackend`).
    public func updateBackend(_ id: BackendID, _ configuration: BackendConfiguration, now: PoolInstant) throws(PoolError) -> PoolActions {
        guard let backend = backends[id], !backend.removing else { throw .unknownBackend(id) }
        backend.configuration = configuration
        return backendChanged(backend, now: now)
    }

    /// Stop new connections and hand-outs on a backend: idle connections close now, leased ones
    /// when released, connecting ones when established; requests with no other candidate fail.
    public func drainBackend(_ id: BackendID, now: PoolInstant) throws(PoolError) -> PoolActions {
        guard let backend = backends[id], !backend.removing else { throw .unknownBackend(id) }
        var configuration = backend.configuration
        configuration.acceptingNew = false
        return try updateBackend(id, configuration, now: now)
    }

    /// Drain the backend and forget it once its last connection is gone.
    public func removeBackend(_ id: BackendID, now: PoolInstant) throws(PoolError) -> PoolActions {
        guard let backend = backends[id], !backend.removing else { throw .unknownBackend(id) }
        backend.removing = true
        let actions = backendChanged(backend, now: now)
        removeBackendIfDone(backend)
        return actions
    }

    /// Make sure the pool for (backend, user) exists, so `minIdle` keeps it warm from the next tick.
    public func warmPool(backend id: BackendID, user: String) throws(PoolError) {
        guard let backend = backends[id], !backend.removing else { throw .unknownBackend(id) }
        _ = poolRecord(backend, userRecord(user))
    }

    public var backendIDs: [BackendID] { backendOrder.map(\.id) }

    private func backendChanged(_ backend: BackendRecord, now: PoolInstant) -> PoolActions {
        var actions = PoolActions()
        if backend.isAvailable {
            for user in backend.configuration.warmUsers { _ = poolRecord(backend, userRecord(user)) }
            var surplus = backend.counts.total - backend.configuration.maxConnections
            for pool in backend.pools.values where surplus > 0 {
                for connection in pool.idle where surplus > 0 {
                    close(connection, .overLimit, into: &actions)
                    surplus -= 1
                }
            }
        } else {
            for pool in backend.pools.values {
                for connection in pool.idle { close(connection, .backendUnavailable, into: &actions) }
                // Connects under way here will be closed when established: free their requests
                // to try another candidate now.
                for connection in pool.connecting {
                    connection.openedFor?.pending = nil
                    connection.openedFor = nil
                }
            }
            failUnservable(into: &actions)
        }
        dispatch(now: now, into: &actions)
        return actions
    }

    func removeBackendIfDone(_ backend: BackendRecord) {
        guard backend.removing, backend.counts.total == 0, backends[backend.id] === backend else { return }
        for pool in backend.pools.values { pool.user.pools[backend.id] = nil }
        backend.pools.removeAll()
        backends[backend.id] = nil
        backendOrder.removeAll { $0 === backend }
    }
}
