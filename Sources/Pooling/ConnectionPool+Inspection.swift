extension ConnectionPool {
    /// Counters and gauges of the whole pool, sorted by name. O(connections + waiting requests).
    public func snapshot() -> PoolSnapshot {
        var waitingByKey: [PoolKey: Int] = [:]
        for waiter in waiters.values {
            if let first = waiter.firstChoice { waitingByKey[PoolKey(backend: first.id, user: waiter.user.name), default: 0] += 1 }
        }
        let backendStats = backendOrder.sorted { $0.id < $1.id }.map {
            BackendStatistics(id: $0.id, configuration: $0.configuration, isRemoving: $0.removing,
                              connections: $0.counts, counters: $0.counters, waiting: $0.waitingFirstChoice)
        }
        let poolStats = backendOrder.flatMap { $0.pools.values }.map {
            PoolKeyStatistics(key: $0.key, connections: $0.counts, counters: $0.counters, waiting: waitingByKey[$0.key, default: 0])
        }.sorted { ($0.key.backend, $0.key.user) < ($1.key.backend, $1.key.user) }
        let userStats = users.values.sorted { $0.name < $1.name }.map {
            UserStatistics(user: $0.name, connections: $0.counts, waiting: $0.waiting, requests: $0.requests)
        }
        let inUse = tracksDatabases ? databaseInUse : leasesByDatabase()
        let waiting = tracksDatabases ? databaseWaiting : waitingByDatabase()
        let databases = Set(inUse.keys).union(waiting.keys).sorted().map {
            DatabaseStatistics(database: $0, inUse: inUse[$0, default: 0], waiting: waiting[$0, default: 0])
        }
        return PoolSnapshot(connections: totals, waiting: waiters.count, requests: requests, backends: backendStats,
                            pools: poolStats, users: userStats, databases: databases)
    }

    /// Leased connections by client database, counted from the connections.
    func leasesByDatabase() -> [String: Int] {
        var counts: [String: Int] = [:]
        for connection in connections.values where connection.state == .leased {
            if let database = connection.leasedDatabase { counts[database, default: 0] += 1 }
        }
        return counts
    }

    /// Waiting requests by client database, counted from the backlog.
    func waitingByDatabase() -> [String: Int] {
        var counts: [String: Int] = [:]
        for waiter in waiters.values {
            if let database = waiter.database { counts[database, default: 0] += 1 }
        }
        return counts
    }

    /// Recomputes every count and link from scratch and compares (for tests and debug builds).
    /// Also checks the pool is settled: no waiting request could be served or could open a
    /// connection right now. Returns the violations; empty means consistent.
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        var total = ConnectionCounts()
        var byPool: [ObjectIdentifier: ConnectionCounts] = [:]
        var byBackend: [ObjectIdentifier: ConnectionCounts] = [:]
        var byUser: [ObjectIdentifier: ConnectionCounts] = [:]
        for (id, connection) in connections {
            guard let state = connection.state else { problems.append("\(id) registered without state"); continue }
            let pool = connection.pool
            total[state] += 1
            byPool[ObjectIdentifier(pool), default: ConnectionCounts()][state] += 1
            byBackend[ObjectIdentifier(pool.backend), default: ConnectionCounts()][state] += 1
            byUser[ObjectIdentifier(pool.user), default: ConnectionCounts()][state] += 1
            if backends[pool.key.backend] !== pool.backend { problems.append("\(id) on a forgotten backend") }
            if state != .leased, connection.leasedDatabase != nil { problems.append("\(id) \(state) keeps a database lease") }
            if let waiter = connection.openedFor, state != .connecting || !waiter.isWaiting || waiter.pending !== connection {
                problems.append("\(id) opened for \(waiter.id) inconsistently")
            }
            if let waiter = connection.evictedFor, state != .closing || !waiter.isWaiting || waiter.evicting !== connection {
                problems.append("\(id) evicted for \(waiter.id) inconsistently")
            }
            let onIdle = pool.idle.contains { $0 === connection }
            let onConnecting = pool.connecting.contains { $0 === connection }
            if onIdle != (state == .idle) || onConnecting != (state == .connecting) { problems.append("\(id) \(state) on wrong list") }
        }
        if total != totals { problems.append("totals \(totals) != recount \(total)") }
        let inUse = tracksDatabases ? leasesByDatabase() : [:]
        if inUse != databaseInUse { problems.append("database leases \(databaseInUse) != recount \(inUse)") }
        for backend in backendOrder {
            if backends[backend.id] !== backend { problems.append("backend order lists forgotten \(backend.id)") }
            if backend.counts != byBackend[ObjectIdentifier(backend), default: ConnectionCounts()] {
                problems.append("backend \(backend.id) counts \(backend.counts) wrong")
            }
            if backend.removing && backend.counts.total == 0 { problems.append("removed backend \(backend.id) lingers") }
            let firstChoice = waiters.values.filter { $0.firstChoice === backend }.count
            if firstChoice != backend.waitingFirstChoice { problems.append("backend \(backend.id) waiting \(backend.waitingFirstChoice) != \(firstChoice)") }
            for pool in backend.pools.values {
                if pool.counts != byPool[ObjectIdentifier(pool), default: ConnectionCounts()] {
                    problems.append("pool \(pool.key) counts \(pool.counts) wrong")
                }
                if pool.idle.count != pool.counts.idle || pool.connecting.count != pool.counts.connecting {
                    problems.append("pool \(pool.key) lists out of step")
                }
                if pool.user.pools[backend.id] !== pool { problems.append("pool \(pool.key) not linked from user") }
            }
        }
        if backends.count != backendOrder.count { problems.append("backend table and order differ") }
        var waitingByDatabase: [String: Int] = [:]
        for (name, user) in users {
            if user.counts != byUser[ObjectIdentifier(user), default: ConnectionCounts()] {
                problems.append("user \(name) counts \(user.counts) wrong")
            }
            let live = user.queue.items.filter(\.isWaiting)
            if live.count != user.waiting { problems.append("user \(name) waiting \(user.waiting) != queue \(live.count)") }
            if (user.waiting > 0 && !user.inRing) || user.inRing != ring.contains(where: { $0 === user }) {
                problems.append("user \(name) ring membership wrong")
            }
            for waiter in live {
                if waiters[waiter.id] !== waiter { problems.append("\(waiter.id) queued but not registered") }
                if let database = waiter.database { waitingByDatabase[database, default: 0] += 1 }
            }
        }
        if tracksDatabases, waitingByDatabase != databaseWaiting {
            problems.append("database waiting \(databaseWaiting) != \(waitingByDatabase)")
        }
        if ring.count != Set(ring.map { ObjectIdentifier($0) }).count { problems.append("user twice in ring") }
        for waiter in waiters.values {
            if !waiter.isWaiting { problems.append("\(waiter.id) registered but finished") }
            if waiter.deadline < waiter.enqueuedAt { problems.append("\(waiter.id) deadline before enqueue") }
            if let pending = waiter.pending, pending.state != .connecting || pending.openedFor !== waiter {
                problems.append("\(waiter.id) pending connect inconsistent")
            }
            if let evicting = waiter.evicting, evicting.state != .closing || evicting.evictedFor !== waiter {
                problems.append("\(waiter.id) eviction inconsistent")
            }
            if isDatabaseFull(waiter.database) { continue }
            let name = waiter.user.name
            if firstCandidate(waiter.backends, { $0.pools[name].flatMap { $0.idle.first } }) != nil {
                problems.append("\(waiter.id) waits while an idle connection could serve it")
            }
            if waiter.pending == nil {
                if firstCandidate(waiter.backends, { openBlockers($0, waiter.user).isEmpty && !waiter.failedOn.contains($0.id) ? $0 : nil }) != nil {
                    problems.append("\(waiter.id) waits while a connection could be opened for it")
                }
                if firstCandidate(waiter.backends, { $0.pools[name]?.connecting.first { $0.openedFor == nil } }) != nil {
                    problems.append("\(waiter.id) waits beside an orphan connect")
                }
            }
        }
        return problems
    }
}
