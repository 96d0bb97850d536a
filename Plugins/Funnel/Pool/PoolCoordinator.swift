import Foundation
import MySQLWire
import NIOConcurrencyHelpers
import NIOCore
import PluginKit
import Pooling

/// Runs the Pooling state machine for real: one lock around it, and the actions it returns
/// (open, close, reset, hand over, fail) carried out on the event loops, outside the lock.
/// It also holds requests that no backend can serve right now (all down, or PAUSE) until one
/// can or their backlog deadline passes.
///
/// Lock order: the registry's lock may be taken before this one, never the other way round.
final class PoolCoordinator: @unchecked Sendable {
    typealias Completion = (Result<(BackendConnection, Lease), PoolFailure>) -> Void

    /// A request parked outside the pool: no candidate backend now, or the funnel is paused.
    private struct Parked {
        var user: String
        var database: String?
        var role: BackendRole
        var affinity: Int?
        var completion: Completion
        var deadline: NIODeadline
        var since: NIODeadline
    }

    private let lock = NIOLock()
    private let pool: ConnectionPool
    private var connections: [ConnectionID: BackendConnection] = [:]
    private var closing: Set<ConnectionID> = []
    /// A bare closure kept in a dictionary, or returned through a generic such as `withLock`,
    /// is wrapped in a reabstraction thunk each way: an allocation each time, three per waiting
    /// statement. Inside a struct it keeps its own form.
    private struct Waiting {
        let complete: Completion
        /// What the request asked for: if every backend that could serve it goes down while it
        /// waits, it is parked, as a request arriving then would be (see `repark`).
        let user: String
        let database: String?
        let role: BackendRole
        let affinity: Int?
        /// When it asked, on the pool's clock (no second clock read per waiting statement).
        let asked: PoolInstant
        /// Set when it was parked before: its first wait counts too.
        let since: NIODeadline?
        let deadline: NIODeadline?
    }
    private var waiters: [RequestID: Waiting] = [:]
    private var parked: [RequestID: Parked] = [:]
    private var parkedOrder: [RequestID] = []
    /// A request was parked by `repark` since the last retry of the parked ones.
    private var reparked = false
    private var nextRequest: UInt64 = 1
    private var admission: ClientAdmission
    private var paused = false
    private var waitTimeout: TimeAmount
    private var drainDeadlines: [BackendID: NIODeadline] = [:]

    let registry: BackendRegistry
    private let credentials: CredentialStore
    private let connector: BackendConnector
    private let group: EventLoopGroup
    /// The group's loops, by index: a connection's affinity is the index of the loop it lives on.
    let loops: [EventLoop]
    private let events: FunnelEvents
    private var ticker: RepeatedTask?
    var log: ((PluginContext.LogLevel, String) -> Void)?
    /// Backend-level events (added, removed, state) with the backend's figures as payload.
    var backendEvent: ((FunnelEvents.Name, BackendState, String) -> Void)?

    init(configuration: FunnelConfiguration, registry: BackendRegistry, credentials: CredentialStore,
         connector: BackendConnector, group: EventLoopGroup, events: FunnelEvents) {
        pool = ConnectionPool(configuration: configuration.pool)
        admission = ClientAdmission(limits: configuration.admission)
        waitTimeout = .nanoseconds(Int64(configuration.pool.waitTimeout.nanoseconds))
        self.registry = registry
        self.credentials = credentials
        self.connector = connector
        self.group = group
        loops = Array(group.makeIterator())
        self.events = events
    }

    /// The affinity of a client on this loop: the pool prefers connections living on the same
    /// loop, which saves a thread hop (a task and a wake-up) for every packet relayed.
    func affinity(of loop: EventLoop) -> Int? {
        loops.firstIndex { $0 === loop }
    }

    static func now() -> PoolInstant { PoolInstant(nanoseconds: DispatchTime.now().uptimeNanoseconds) }

    /// The ticker and the connections' close handlers hold the coordinator strongly (`stop`
    /// cancels the one, closing forgets the others): no weak reference, see `FunnelRuntime.startParking`.
    func start() {
        ticker = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            self.tick()
        }
    }

    func stop() {
        ticker?.cancel()
        let (all, waiting) = lock.withLock { () -> ([BackendConnection], [Completion]) in
            let waiting = parked.values.map(\.completion) + waiters.values.map(\.complete)
            parked = [:]
            parkedOrder = []
            waiters = [:]
            return (Array(connections.values), waiting)
        }
        for completion in waiting { completion(.failure(.noBackendAvailable)) }
        for connection in all { connection.quit() }
    }

    // MARK: configuration at run time

    func updateConfiguration(_ configuration: FunnelConfiguration) {
        let actions: PoolActions = lock.withLock {
            admission.limits = configuration.admission
            waitTimeout = .nanoseconds(Int64(configuration.pool.waitTimeout.nanoseconds))
            return pool.updateConfiguration(configuration.pool, now: Self.now())
        }
        run(actions)
    }

    // MARK: backends

    /// The stats plugin's figures (nil without it).
    var metrics: FunnelMetrics?

    func addBackend(_ backend: BackendState) throws {
        metrics?.attach(backend)
        try registry.add(backend)
        let actions: PoolActions
        do {
            actions = try lock.withLock { () throws(PoolError) -> PoolActions in
                drainDeadlines[backend.id] = nil
                return try pool.addBackend(backend.id, BackendConfiguration(maxConnections: backend.maxConnections), now: Self.now())
            }
        } catch {
            registry.remove(backend.id)
            throw FunnelConfigurationError("backend \(backend.id) is still being removed; try again when it is gone")
        }
        backendEvent?(.backendAdded, backend, "address=\(backend.id) role=\(backend.role.rawValue) weight=\(backend.weight)")
        run(actions)
        retryParked()
    }

    /// Applies a backend's health or operator state to the pool: only UP takes new work.
    func setHealth(_ backend: BackendState, _ health: BackendHealth, reason: String) {
        guard backend.health != .draining, let previous = backend.transition(to: health) else { return }
        let configuration = BackendConfiguration(maxConnections: backend.maxConnections, acceptingNew: health == .up)
        let actions = lock.withLock { (try? pool.updateBackend(backend.id, configuration, now: Self.now())) ?? PoolActions() }
        backendEvent?(.backendState, backend, "address=\(backend.id) from=\(previous.rawValue) to=\(health.rawValue) reason=\(reason)")
        log?(health == .up ? .notice : .warning, "backend \(backend.id) is \(health.rawValue) (was \(previous.rawValue)): \(reason)")
        run(actions)
        if health == .up { retryParked() }
    }

    func updateLimit(_ backend: BackendState) {
        let configuration = BackendConfiguration(maxConnections: backend.maxConnections, acceptingNew: backend.health == .up)
        run(lock.withLock { (try? pool.updateBackend(backend.id, configuration, now: Self.now())) ?? PoolActions() })
        retryParked()
    }

    /// No new work; transactions finish, then the connections close. After `timeout` the
    /// connections still in use are closed (their clients get an error for the work in flight).
    func drain(_ backend: BackendState, timeout: TimeAmount) {
        guard let previous = backend.transition(to: .draining) else { return }
        let actions = lock.withLock { () -> PoolActions in
            drainDeadlines[backend.id] = .now() + timeout
            return (try? pool.removeBackend(backend.id, now: Self.now())) ?? PoolActions()
        }
        backendEvent?(.backendState, backend, "address=\(backend.id) from=\(previous.rawValue) to=DRAINING reason=drain")
        run(actions)
        finishDrains()
    }

    /// Backends whose drain finished are forgotten; those past their deadline lose their connections.
    private func finishDrains() {
        let now = NIODeadline.now()
        let (done, overdue): ([BackendID], [BackendConnection]) = lock.withLock {
            let remaining = Set(pool.backendIDs)
            var done: [BackendID] = []
            var overdue: [BackendConnection] = []
            for (id, deadline) in drainDeadlines {
                if !remaining.contains(id) {
                    done.append(id)
                    drainDeadlines[id] = nil
                } else if deadline <= now {
                    overdue += connections.values.filter { $0.backend == id }
                }
            }
            return (done, overdue)
        }
        for connection in overdue { connection.close() }
        for id in done {
            guard let backend = registry[id] else { continue }
            registry.remove(id)
            backendEvent?(.backendRemoved, backend, "address=\(id)")
        }
    }

    /// Open and idle connections of one pool, for a policy's cap.
    func poolCounts(backend: BackendID, user: String) -> (open: Int, idle: Int) {
        lock.withLock {
            let counts = pool.counts(backend: backend, user: user)
            return (counts.total - counts.connecting, counts.idle)
        }
    }

    // MARK: clients

    func admit(user: String) -> ClientAdmission.Refusal? {
        lock.withLock { admission.admit(user: user) }
    }

    func leave(user: String) {
        lock.withLock { _ = admission.leave(user: user) }
    }

    func pause() { lock.withLock { paused = true } }

    func resume() {
        lock.withLock { paused = false }
        retryParked()
    }

    var isPaused: Bool { lock.withLock { paused } }

    /// The answer to an acquisition.
    enum Acquisition {
        /// An idle connection served at once (the usual case).
        case served(BackendConnection, Lease)
        case failed(PoolFailure)
        /// The request waits; the completion runs exactly once, later, on any thread.
        case pending(RequestID)
    }

    /// Asks for a connection. `completion` is only built when the request has to wait, so the
    /// usual immediate hand-over allocates no callback.
    func acquire(user: String, database: String?, role: BackendRole, backend: BackendID? = nil, affinity: Int? = nil,
                 completion: () -> Completion) -> Acquisition {
        submit(nil, user: user, database: database, role: role, backend: backend, affinity: affinity,
               completion: completion, deadline: nil, since: nil)
    }

    private enum Submission {
        case parked
        case refused
        case served(BackendConnection, Lease)
        case queued(PoolActions)
    }

    /// One acquisition (a new one when `request` is nil, else a parked one retried).
    private func submit(_ request: RequestID?, user: String, database: String?, role: BackendRole, backend: BackendID? = nil,
                        affinity: Int?, completion: () -> Completion, deadline: NIODeadline?, since: NIODeadline?) -> Acquisition {
        var candidates = registry.candidates(role: role, user: user, database: database) { self.poolCounts(backend: $0, user: user) }
        // A script's choice (backend_ndx) goes first when that backend is up; the rest stay fall-backs.
        if let backend, registry[backend]?.health == .up {
            candidates = [backend] + candidates.filter { $0 != backend }
        }
        let willServe = candidates.isEmpty && registry.anyWillServe(role)
        let (request, submission) = lock.withLock { () -> (RequestID, Submission) in
            let request = request ?? {
                defer { nextRequest += 1 }
                return RequestID(nextRequest)
            }()
            if paused || willServe {
                let now = NIODeadline.now()
                parked[request] = Parked(user: user, database: database, role: role, affinity: affinity, completion: completion(),
                                         deadline: deadline ?? now + waitTimeout, since: since ?? now)
                parkedOrder.append(request)
                return (request, .parked)
            }
            if candidates.isEmpty { return (request, .refused) }
            let remaining = deadline.map { PoolDuration(nanoseconds: UInt64(max(($0 - .now()).nanoseconds, 1))) }
            let now = Self.now()
            let actions: PoolActions
            do {
                actions = try pool.acquire(request, user: user, database: database, backends: .preferred(candidates), now: now,
                                           timeout: remaining, affinity: affinity)
            } catch {
                return (request, .refused)
            }
            if actions.endIndex == 1, case .handOver(request, let lease) = actions[0],
               let connection = connections[lease.connection] {
                return (request, .served(connection, lease))
            }
            waiters[request] = Waiting(complete: completion(), user: user, database: database, role: role, affinity: affinity,
                                       asked: now, since: since, deadline: deadline)
            return (request, .queued(actions))
        }
        switch submission {
        case .parked:
            events.publishIfWanted(.backlogEnter) { "user=\(user) db=\(database ?? "") parked=true" }
            return .pending(request)
        case .refused:
            return .failed(.noBackendAvailable)
        case .served(let connection, let lease):
            publishAcquire(lease, connection)
            return .served(connection, lease)
        case .queued(let actions):
            if events.wanted(.backlogEnter), lock.withLock({ pool.isWaiting(request) }) {
                events.publish(.backlogEnter, "user=\(user) db=\(database ?? "")")
            }
            run(actions)
            return .pending(request)
        }
    }

    private func publishAcquire(_ lease: Lease, _ connection: BackendConnection) {
        events.publishIfWanted(.acquire) {
            "connection=\(lease.connection.rawValue) backend=\(lease.backend) user=\(connection.user) waited_us=\(lease.waited.nanoseconds / 1000)"
        }
    }

    /// Gives parked requests another go (a backend came up, RESUME, a backend was added).
    private func retryParked() {
        let ready: [(RequestID, Parked)] = lock.withLock {
            guard !paused else { return [] }
            reparked = false
            let list = parkedOrder.compactMap { id in parked[id].map { (id, $0) } }
            parked = [:]
            parkedOrder = []
            return list
        }
        for (request, p) in ready {
            switch submit(request, user: p.user, database: p.database, role: p.role, affinity: p.affinity, completion: { p.completion },
                          deadline: p.deadline, since: p.since) {
            case .served(let connection, let lease): p.completion(.success((connection, lease)))
            case .failed(let failure): p.completion(.failure(failure))
            case .pending: break
            }
        }
    }

    /// The client left while waiting. If the hand-over crossed the cancel, the lease is released.
    func cancel(_ request: RequestID) {
        let actions = lock.withLock { () -> PoolActions in
            waiters[request] = nil
            if parked.removeValue(forKey: request) != nil {
                parkedOrder.removeAll { $0 == request }
            }
            return pool.cancel(request, now: Self.now())
        }
        run(actions)
    }

    func release(_ connection: BackendConnection, _ disposition: ReleaseDisposition) {
        let actions: PoolActions = lock.withLock {
            (try? pool.release(connection.id, disposition, now: Self.now(), currentSchema: connection.schema)) ?? PoolActions()
        }
        events.publishIfWanted(.release) {
            "connection=\(connection.id.rawValue) backend=\(connection.backend) user=\(connection.user) disposition=\(disposition)"
        }
        run(actions)
    }

    func snapshot() -> PoolSnapshot { lock.withLock { pool.snapshot() } }

    func clientCounts() -> (total: Int, admitted: Int, refused: Int) {
        lock.withLock { (admission.total, admission.admitted, admission.refused) }
    }

    func clients(of user: String) -> Int { lock.withLock { admission.clients(of: user) } }

    /// Connections and counters by backend, for the backends table and events.
    func backendStatistics() -> [BackendID: BackendStatistics] {
        lock.withLock {
            var result: [BackendID: BackendStatistics] = [:]
            for b in pool.snapshot().backends { result[b.id] = b }
            return result
        }
    }

    // MARK: running actions

    private func tick() {
        let now = NIODeadline.now()
        let expired: [(Parked, Bool)] = lock.withLock {
            var gone: [(Parked, Bool)] = []
            parkedOrder.removeAll { id in
                guard let p = parked[id], p.deadline <= now else { return false }
                parked[id] = nil
                gone.append((p, paused))
                return true
            }
            return gone
        }
        for (p, wasPaused) in expired {
            let waited = PoolDuration(nanoseconds: UInt64(max((now - p.since).nanoseconds, 0)))
            p.completion(.failure(wasPaused ? .timeout(waited: waited, PoolPressure(limit: nil, backend: nil, user: p.user, database: p.database, inUse: 0, open: 0, waiting: 0))
                                            : .noBackendAvailable))
        }
        run(lock.withLock { pool.tick(now: Self.now()) })
        finishDrains()
        // A request reparked just after its backend came back (which retried what was parked
        // then) gets its next try here, a tick later, not at its deadline.
        if lock.withLock({ reparked && !paused }), registry.all.contains(where: { $0.health == .up }) {
            retryParked()
        }
    }

    private func run(_ actions: PoolActions) {
        // Indexed, not `for in`: iterating a collection of another module goes through generic
        // code that looks its metadata up at run time, on every release.
        for index in 0..<actions.endIndex {
            let action = actions[index]
            switch action {
            case .handOver(let request, let lease):
                let (waiter, connection) = lock.withLock { () -> (Waiting?, BackendConnection?) in
                    (waiters.removeValue(forKey: request), connections[lease.connection])
                }
                guard let connection else { continue }
                guard let waiter else {
                    run(lock.withLock { (try? pool.release(lease.connection, .clean, now: Self.now())) ?? PoolActions() })
                    continue
                }
                publishAcquire(lease, connection)
                waiter.complete(.success((connection, lease)))
            case .fail(let request, let failure):
                guard let waiter = lock.withLock({ waiters.removeValue(forKey: request) }) else { continue }
                if case .noBackendAvailable = failure, repark(request, waiter) { continue }
                if case .timeout = failure { events.publishIfWanted(.backlogTimeout) { PoolErrors.describe(failure) } }
                waiter.complete(.failure(failure))
            case .connect(let id, let backend, let user):
                open(id, backend: backend, user: user)
            case .close(let id, _):
                let connection = lock.withLock { () -> BackendConnection? in
                    closing.insert(id)
                    return connections[id]
                }
                connection?.quit()
            case .reset(let id):
                guard let connection = lock.withLock({ connections[id] }) else { continue }
                reset(connection)
            }
        }
    }

    /// The pool fails a waiting request when none of its backends takes new work any more. If one
    /// of them is only down (the health checker may bring it back), the request is parked
    /// instead, as one arriving now would be: it waits out the rest of its backlog timeout for
    /// a backend to come up, and a backend ejected for a moment costs its waiting clients
    /// latency, not ERR 9003.
    private func repark(_ request: RequestID, _ waiting: Waiting) -> Bool {
        guard registry.anyWillServe(waiting.role) else { return false }
        let now = Self.now().nanoseconds
        let waited = now > waiting.asked.nanoseconds ? Int64(clamping: now - waiting.asked.nanoseconds) : 0
        let since = waiting.since ?? .now() - .nanoseconds(waited)
        lock.withLock {
            parked[request] = Parked(user: waiting.user, database: waiting.database, role: waiting.role, affinity: waiting.affinity,
                                     completion: waiting.complete, deadline: waiting.deadline ?? since + waitTimeout, since: since)
            parkedOrder.append(request)
            reparked = true
        }
        return true
    }

    private func open(_ id: ConnectionID, backend: BackendID, user: String) {
        guard let state = registry[backend], let credential = credentials[user] else {
            let message = credentials[user] == nil ? BackendError.noCredential(user).description : "unknown backend \(backend)"
            run(lock.withLock { (try? pool.connectionFailed(id, now: Self.now(), error: message)) ?? PoolActions() })
            return
        }
        let wanted = lock.withLock { pool.wantedAffinity(id) }
        // Open it on the loop of the client that asked, so their packets never change threads.
        let affinity = wanted.map { $0 % loops.count } ?? Int.random(in: 0..<loops.count)
        let started = NIODeadline.now()
        connector.connect(id: id, backend: backend, address: state.address, user: user, credential: credential,
                          database: nil, on: loops[affinity]).whenComplete { result in
            switch result {
            case .success(let connection):
                state.metrics?.connect?.record(nanoseconds: UInt64(max((NIODeadline.now() - started).nanoseconds, 0)))
                state.consecutiveFailures.store(0, ordering: .relaxed)
                connection.state = state
                connection.handler.onClose = { _ in self.connectionClosed(id) }
                let actions = self.lock.withLock { () -> PoolActions in
                    self.connections[id] = connection
                    return (try? self.pool.connectionEstablished(id, now: Self.now(), affinity: affinity)) ?? PoolActions()
                }
                if !connection.channel.isActive { self.connectionClosed(id) }
                self.run(actions)
            case .failure(let error):
                switch error {
                case BackendError.refused(let err) where err.errorCode == 1045:
                    self.credentials.forget(user)   // the password changed on the backend
                case BackendError.refused(let err) where Self.userLimitCodes.contains(err.errorCode):
                    break   // the server caps this user, not the backend: no health failure
                default:
                    self.backendFailed(state, reason: "connect failed: \(error)")
                }
                self.run(self.lock.withLock {
                    (try? self.pool.connectionFailed(id, now: Self.now(), error: "\(error)")) ?? PoolActions()
                })
            }
        }
    }

    /// Login refusals that are about the user's own limits on the server (ER_TOO_MANY_USER_CONNECTIONS,
    /// ER_USER_LIMIT_REACHED): the backend is fine, other users still get in.
    static let userLimitCodes: Set<UInt16> = [1203, 1226]

    /// Passive health: consecutive connect failures or connections lost mid-query eject a backend.
    var ejectAfterFailures = 3

    func backendFailed(_ backend: BackendState, reason: String) {
        let failures = backend.consecutiveFailures.wrappingIncrementThenLoad(ordering: .relaxed)
        if failures >= ejectAfterFailures, backend.health == .up {
            setHealth(backend, .down, reason: "\(failures) consecutive failures, last: \(reason)")
        }
    }

    private func connectionClosed(_ id: ConnectionID) {
        let actions: PoolActions = lock.withLock {
            guard connections.removeValue(forKey: id) != nil else { return PoolActions() }
            if closing.remove(id) != nil {
                return (try? pool.connectionClosed(id, now: Self.now())) ?? PoolActions()
            }
            return (try? pool.connectionLost(id, now: Self.now())) ?? PoolActions()
        }
        run(actions)
    }

    /// COM_RESET_CONNECTION clears everything a client left (variables, temporary tables,
    /// prepared statements, locks); session tracking is then switched on again.
    private func reset(_ connection: BackendConnection) {
        var payload = connection.channel.allocator.buffer(capacity: 1)
        payload.writeInteger(CommandCode.resetConnection.rawValue)
        connection.run(payload).flatMapThrowing { try BackendConnection.requireOK($0) }
            .flatMap { connection.query(BackendConnector.enableTracking) }
            .flatMapThrowing { try BackendConnection.requireOK($0) }
            .whenComplete { result in
                let ok: Bool
                if case .success = result { ok = true } else { ok = false }
                if ok {
                    connection.variables = SessionVariables()
                    connection.lastInsertID = 0
                }
                self.run(self.lock.withLock { (try? self.pool.resetCompleted(connection.id, ok: ok, now: Self.now())) ?? PoolActions() })
            }
    }
}

/// SHA1(password) of every user that logged in (or was configured in clear): what the funnel
/// logs in to backends with on that user's behalf.
final class CredentialStore: @unchecked Sendable {
    private let lock = NIOLock()
    private var stage1: [String: BackendCredential] = [:]

    subscript(user: String) -> BackendCredential? {
        get { lock.withLock { stage1[user] } }
        set { lock.withLock { stage1[user] = newValue } }
    }

    func forget(_ user: String) {
        lock.withLock { stage1[user] = nil }
    }
}
