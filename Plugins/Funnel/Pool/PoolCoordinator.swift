import Foundation
import MySQLWire
import NIOConcurrencyHelpers
import NIOCore
import Pooling

/// Runs the Pooling state machine for real: one lock around it, and the actions it returns
/// (open, close, reset, hand over, fail) carried out on the event loops, outside the lock.
final class PoolCoordinator: @unchecked Sendable {
    typealias Completion = (Result<(BackendConnection, Lease), PoolFailure>) -> Void

    private let lock = NIOLock()
    private let pool: ConnectionPool
    private var connections: [ConnectionID: BackendConnection] = [:]
    private var closing: Set<ConnectionID> = []
    private var waiters: [RequestID: (completion: Completion, loop: EventLoop)] = [:]
    private var nextRequest: UInt64 = 1
    private var addresses: [BackendID: HostPort] = [:]
    private var admission: ClientAdmission
    private let credentials: CredentialStore
    private let connector: BackendConnector
    private let group: EventLoopGroup
    private let events: FunnelEvents
    private var ticker: RepeatedTask?

    init(configuration: FunnelConfiguration, credentials: CredentialStore, group: EventLoopGroup, events: FunnelEvents) throws {
        pool = ConnectionPool(configuration: configuration.pool)
        admission = ClientAdmission(limits: configuration.admission)
        self.credentials = credentials
        self.group = group
        self.events = events
        connector = BackendConnector(connectTimeout: .nanoseconds(Int64(configuration.connectTimeout * 1e9)),
                                     maxPacketSize: configuration.maxPacketSize)
        for address in configuration.backends {
            let id = BackendID(address.description)
            addresses[id] = address
            _ = try pool.addBackend(id, BackendConfiguration(maxConnections: configuration.backendMaxConnections), now: Self.now())
        }
    }

    static func now() -> PoolInstant { PoolInstant(nanoseconds: DispatchTime.now().uptimeNanoseconds) }

    func start() {
        ticker = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [weak self] _ in
            self?.tick()
        }
    }

    func stop() {
        ticker?.cancel()
        let all = lock.withLock { Array(connections.values) }
        for connection in all { connection.quit() }
    }

    // MARK: clients

    func admit(user: String) -> ClientAdmission.Refusal? {
        lock.withLock { admission.admit(user: user) }
    }

    func leave(user: String) {
        lock.withLock { _ = admission.leave(user: user) }
    }

    /// Asks for a connection; `completion` runs exactly once, on any thread.
    @discardableResult
    func acquire(user: String, database: String?, loop: EventLoop, completion: @escaping Completion) -> RequestID {
        let (request, result): (RequestID, Result<PoolActions, PoolError>) = lock.withLock {
            let request = RequestID(nextRequest)
            nextRequest += 1
            waiters[request] = (completion, loop)
            return (request, Result { () throws(PoolError) in try pool.acquire(request, user: user, database: database, backends: .any, now: Self.now()) })
        }
        guard case .success(let actions) = result else {
            lock.withLock { _ = waiters.removeValue(forKey: request) }
            completion(.failure(.noBackendAvailable))
            return request
        }
        if events.wanted(.backlogEnter), lock.withLock({ pool.isWaiting(request) }) {
            events.publish(.backlogEnter, "user=\(user) db=\(database ?? "")")
        }
        run(actions)
        return request
    }

    /// The client left while waiting. If the hand-over crossed the cancel, the lease is released.
    func cancel(_ request: RequestID) {
        let actions = lock.withLock {
            waiters[request] = nil
            return pool.cancel(request, now: Self.now())
        }
        run(actions)
    }

    func release(_ connection: BackendConnection, _ disposition: ReleaseDisposition) {
        let actions: PoolActions = lock.withLock {
            (try? pool.release(connection.id, disposition, now: Self.now(), currentSchema: connection.schema)) ?? PoolActions()
        }
        if events.wanted(.release) {
            events.publish(.release, "connection=\(connection.id.rawValue) backend=\(connection.backend) user=\(connection.user) disposition=\(disposition)")
        }
        run(actions)
    }

    func snapshot() -> PoolSnapshot { lock.withLock { pool.snapshot() } }

    func clientCounts() -> (total: Int, admitted: Int, refused: Int) {
        lock.withLock { (admission.total, admission.admitted, admission.refused) }
    }

    // MARK: running actions

    private func tick() {
        run(lock.withLock { pool.tick(now: Self.now()) })
    }

    private func run(_ actions: PoolActions) {
        for action in actions {
            switch action {
            case .handOver(let request, let lease):
                let (waiter, connection) = lock.withLock { (waiters.removeValue(forKey: request), connections[lease.connection]) }
                guard let connection else { continue }
                guard let waiter else {
                    release(connection, .clean)   // the client left as the connection came
                    continue
                }
                if events.wanted(.acquire) {
                    events.publish(.acquire, "connection=\(lease.connection.rawValue) backend=\(lease.backend) user=\(lease.user) waited_us=\(lease.waited.nanoseconds / 1000)")
                }
                waiter.completion(.success((connection, lease)))
            case .fail(let request, let failure):
                guard let waiter = lock.withLock({ waiters.removeValue(forKey: request) }) else { continue }
                if case .timeout = failure, events.wanted(.backlogTimeout) {
                    events.publish(.backlogTimeout, PoolErrors.describe(failure))
                }
                waiter.completion(.failure(failure))
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

    private func open(_ id: ConnectionID, backend: BackendID, user: String) {
        guard let address = lock.withLock({ addresses[backend] }), let credential = credentials[user] else {
            let message = credentials[user] == nil ? BackendError.noCredential(user).description : "unknown backend \(backend)"
            run(lock.withLock { (try? pool.connectionFailed(id, now: Self.now(), error: message)) ?? PoolActions() })
            return
        }
        connector.connect(id: id, backend: backend, address: address, user: user, credential: credential,
                          database: nil, on: group.next()).whenComplete { result in
            switch result {
            case .success(let connection):
                connection.handler.onClose = { [weak self] _ in self?.connectionClosed(id) }
                let actions = self.lock.withLock { () -> PoolActions in
                    self.connections[id] = connection
                    return (try? self.pool.connectionEstablished(id, now: Self.now())) ?? PoolActions()
                }
                if !connection.channel.isActive { self.connectionClosed(id) }
                self.run(actions)
            case .failure(let error):
                if case BackendError.refused(let err) = error, err.errorCode == 1045 {
                    self.credentials.forget(user)   // the password changed on the backend
                }
                self.run(self.lock.withLock { (try? self.pool.connectionFailed(id, now: Self.now(), error: "\(error)")) ?? PoolActions() })
            }
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
                if ok { connection.variables = SessionVariables() }
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
