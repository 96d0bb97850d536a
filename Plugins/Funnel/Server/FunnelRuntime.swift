import Atomics
import CChassis
import Logging
import MySQLWire
import NIOCore
import NIOPosix
import PluginKit
import Pooling

/// The running funnel: the event loops, the listener, the backends, the pool and what every
/// client session shares. Created by the plugin's start(), shut down by its stop().
final class FunnelRuntime: @unchecked Sendable {
    private(set) var configuration: FunnelConfiguration
    let coordinator: PoolCoordinator
    let registry: BackendRegistry
    let credentials = CredentialStore()
    let users: UserDirectory
    let events: FunnelEvents
    let clients = ClientDirectory()
    /// Clients idle past `client-park-after`, held outside NIO (nil only if its epoll set could
    /// not be made).
    private(set) var parking: ClientParkingLot?
    private var sweepers: [RepeatedTask] = []
    /// `client-park-after` in milliseconds, read by the sweeps on every loop (0: off).
    private let parkAfterMillis = ManagedAtomic<Int>(0)
    let metrics: FunnelMetrics?
    /// One per event loop (by affinity), touched only on that loop's thread: whether a
    /// connection handed over from a waiting client's backlog is being taken inline right now.
    let handOvers: [InlineHandOver]
    /// The lua plugin's hooks, when it is loaded and a script is configured.
    private(set) var scripting: ScriptHooks?
    let group: MultiThreadedEventLoopGroup
    private let health: HealthChecker
    private let context: PluginContext
    private var listener: Channel?

    init(configuration: FunnelConfiguration, context: PluginContext, policies: PolicySet,
         backendsService: UnsafeMutableRawPointer) throws {
        self.configuration = configuration
        self.context = context
        parkAfterMillis.store(Int(configuration.clientParkAfter * 1000), ordering: .relaxed)
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        events = FunnelEvents(context: context)
        let connector = BackendConnector(connectTimeout: .nanoseconds(Int64(configuration.connectTimeout * 1e9)),
                                         maxPacketSize: configuration.maxPacketSize)
        let registry = BackendRegistry(algorithm: configuration.balance, policies: policies)
        self.registry = registry
        users = UserDirectory(configuration: configuration, connector: connector) {
            Self.userLookupTargets(registry.all)
        }
        coordinator = PoolCoordinator(configuration: configuration, registry: registry, credentials: credentials,
                                      connector: connector, group: group, events: events)
        metrics = FunnelMetrics(context: context, digests: configuration.queryDigests)
        handOvers = coordinator.loops.map { _ in InlineHandOver() }
        if let service = context.serviceTable("scripting", as: chassis_scripting_service.self) {
            scripting = ScriptHooks(table: service.table, instance: service.instance)
            service.table.pointee.set_backends(service.instance, BackendsService.table, backendsService)
        }
        coordinator.metrics = metrics
        coordinator.ejectAfterFailures = configuration.ejectAfterFailures
        coordinator.log = { [context] level, message in context.log(level, message) }
        health = HealthChecker(coordinator: coordinator, connector: connector, group: group,
                               interval: .nanoseconds(Int64(configuration.healthCheckInterval * 1e9)),
                               timeout: .nanoseconds(Int64(configuration.healthCheckTimeout * 1e9)),
                               checkUser: configuration.healthCheckUser, checkPassword: configuration.healthCheckPassword)
        coordinator.backendEvent = { [events, coordinator] name, backend, detail in
            guard events.wanted(name) else { return }
            BackendInfo.with(backend, statistics: coordinator.backendStatistics()[backend.id]) { info in
                events.publish(name, detail, payload: UnsafeRawPointer(info))
            }
        }
        for user in configuration.users {
            if let stage1 = user.stage1 { credentials[user.name] = .stage1(stage1) }
        }
        for spec in configuration.backends {
            try coordinator.addBackend(BackendState(address: spec.address, role: spec.role, weight: spec.weight,
                                                    maxConnections: spec.maxConnections))
        }
    }

    /// Where unlisted users are looked up: the backends as they are now (added, removed, down),
    /// those that take new work first, read-write before read-only; if none does, all of them
    /// (a health check may be behind).
    static func userLookupTargets(_ backends: [BackendState]) -> [HostPort] {
        let ranked = backends.filter { $0.role == .readWrite } + backends.filter { $0.role == .readOnly }
        let up = ranked.filter { $0.health == .up }
        return (up.isEmpty ? ranked : up).map(\.address)
    }

    /// A channel keeps its last receive buffer for the next read, so an idle client holds one:
    /// NIO's default 2 KiB start would be most of an idle client's memory. Commands are small; a
    /// large one grows the buffer for as long as it is needed.
    private static let clientReceiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 64 * 1024)

    func start() throws {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: Self.clientReceiveBuffers)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let session = ClientSession(id: self.clients.makeID(), server: self)
                    try channel.pipeline.syncOperations.addHandlers([session.writer, session])
                }
            }
        do {
            if let path = configuration.address.socketPath {
                // A stale file of a previous run would make bind fail and is replaced; one that
                // something still listens on (another funnel, a mysqld) is not taken over.
                if let live = try? ClientBootstrap(group: group).connectTimeout(.seconds(1)).connect(unixDomainSocketPath: path).wait() {
                    live.close(promise: nil)
                    throw FunnelConfigurationError("another process listens on \(path)")
                }
                listener = try bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).wait()
                // Anyone on the machine may connect, as to mysqld's socket: the login is the check.
                chmod(path, 0o777)
            } else {
                listener = try bootstrap.bind(host: configuration.address.host, port: configuration.address.port).wait()
            }
        } catch {
            try? group.syncShutdownGracefully()
            throw FunnelConfigurationError("cannot listen on \(configuration.address): \(error)")
        }
        coordinator.start()
        health.start()
        startParking()
        metrics?.startCollecting(self)
        log(.info, "listening on \(configuration.address), backends \(configuration.backends.map { "\($0.address)(\($0.role.rawValue))" }.joined(separator: ", ")), pool mode \(configuration.defaultPoolMode.rawValue), balance \(configuration.balance.rawValue), \(configuration.threads) event loop(s)")
    }

    func stop() {
        if let listener {
            try? listener.close().wait()
            // Ours only once bound: a failed start must not remove another process's socket.
            if let path = configuration.address.socketPath { unlink(path) }
        }
        metrics?.stopCollecting()
        health.stop()
        stopParking()
        for session in clients.all { session.closeFromServer() }
        coordinator.stop()
        try? group.syncShutdownGracefully()
    }

    /// SIGHUP or admin RELOAD: live settings change, and the backend list is diffed (new ones
    /// added, missing ones drained, changed ones updated), as the admin's commands would.
    func apply(_ new: FunnelConfiguration) {
        let old = configuration
        configuration = new
        parkAfterMillis.store(Int(new.clientParkAfter * 1000), ordering: .relaxed)
        coordinator.updateConfiguration(new)
        registry.algorithm = new.balance
        health.update(interval: new.healthCheckInterval)
        coordinator.ejectAfterFailures = new.ejectAfterFailures
        users.defaultPoolMode = new.defaultPoolMode
        users.defaultReadWriteSplit = new.readWriteSplit
        for user in new.users {
            users.set(user, source: "config")
            if let stage1 = user.stage1 { credentials[user.name] = .stage1(stage1) }
        }
        refreshUserLimits()
        for spec in new.backends {
            if let existing = registry[BackendID(spec.address.description)] {
                existing.role = spec.role
                existing.weight = spec.weight
                if existing.maxConnections != spec.maxConnections {
                    existing.maxConnections = spec.maxConnections
                    coordinator.updateLimit(existing)
                }
            } else {
                do {
                    try coordinator.addBackend(BackendState(address: spec.address, role: spec.role, weight: spec.weight,
                                                            maxConnections: spec.maxConnections))
                } catch {
                    log(.error, "reload: \(error)")
                }
            }
        }
        for spec in old.backends where !new.backends.contains(where: { $0.address == spec.address }) {
            if let backend = registry[BackendID(spec.address.description)] {
                coordinator.drain(backend, timeout: .nanoseconds(Int64(new.drainTimeout * 1e9)))
            }
        }
    }

    /// Users' own limits (from the config or admin) into the pool and the admission control.
    func refreshUserLimits() {
        var updated = configuration
        var clientLimits: [String: Int] = [:]
        var backendLimits: [String: Int] = [:]
        for (entry, _) in users.listed {
            if let n = entry.maxClientConnections { clientLimits[entry.name] = n }
            if let n = entry.maxBackendConnections { backendLimits[entry.name] = n }
        }
        updated.admission.userLimits = clientLimits
        updated.pool.userConnectionLimits = backendLimits
        configuration = updated
        coordinator.updateConfiguration(updated)
    }

    // MARK: clients

    /// What every client leaving does, live or parked: its admission slot, its script state,
    /// and the event (for logged-in clients).
    func clientLeft(id: UInt32, user: String, admitted: Bool, script: OpaquePointer?, announce: Bool) {
        if admitted { coordinator.leave(user: user) }
        if let script { scripting?.destroy(script) }
        if announce { events.publishIfWanted(.clientDisconnected) { "client=\(id) user=\(user)" } }
    }

    /// KILL of a client: a live session closes its channel; a parked one is closed here.
    func kill(client id: UInt32) -> Bool {
        if let session = clients.all.first(where: { $0.id == id }) {
            session.closeFromServer()
            return true
        }
        guard let parked = parking?.take(id) else { return false }
        leave(parked)
        return true
    }

    /// A parked client goes for good: its socket is closed, and the rest of leaving runs on its
    /// event loop, as its script state belongs to that loop's Lua state.
    @discardableResult
    private func leave(_ parked: ParkedClient) -> EventLoopFuture<Void> {
        close(parked.socket)
        return coordinator.loops[parked.loopIndex].submit {
            self.clientLeft(id: parked.id, user: parked.user, admitted: true, script: parked.script, announce: true)
        }
    }

    // MARK: parking idle clients

    /// Each event loop looks for clients to park once a second (more often for a start-up
    /// `client-park-after` under 2 s); the setting itself may change live.
    private func startParking() {
        do {
            // Strong captures here and in the sweepers, dropped by `stop`: a weak reference
            // to the runtime would move its reference counts to a side table, and every
            // statement retains it a few times (the pool's coordinator likewise).
            parking = try ClientParkingLot { parked in self.resume(parked) }
        } catch {
            log(.warning, "idle clients will not be parked: \(error)")
            return
        }
        parking?.start()
        let startValue = configuration.clientParkAfter
        let interval = startValue > 0 ? min(1, startValue / 2) : 1
        for loop in coordinator.loops {
            let every = TimeAmount.nanoseconds(Int64(interval * 1e9))
            sweepers.append(loop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
                let parkAfter = Double(self.parkAfterMillis.load(ordering: .relaxed)) / 1000
                guard parkAfter > 0 else { return }
                let sweeps = max(Int((parkAfter / interval).rounded(.up)), 1)
                for session in self.clients.all where session.eventLoop === loop { session.sweep(parkAfter: sweeps) }
            })
        }
    }

    private func stopParking() {
        for sweeper in sweepers { sweeper.cancel() }
        sweepers = []
        let leaving = (parking?.stop() ?? []).map { leave($0) }
        for done in leaving { try? done.wait() }
    }

    /// A session handed its client over (its channel is closed by now; on the client's loop).
    func parked(_ client: ParkedClient) {
        guard let parking, parking.park(client) else {
            close(client.socket)
            clientLeft(id: client.id, user: client.user, admitted: true, script: client.script, announce: true)
            return
        }
        log(.debug, "client \(client.id) parked")
    }

    /// A parked client sent something (or hung up): back onto its event loop with its session.
    private func resume(_ parked: ParkedClient) {
        log(.debug, "client \(parked.id) woke up")
        let session = ClientSession(resuming: parked, server: self)
        ClientBootstrap(group: coordinator.loops[parked.loopIndex])
            .channelOption(.recvAllocator, value: Self.clientReceiveBuffers)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandlers([session.writer, session]) }
            }
            .withConnectedSocket(parked.socket)
            .whenFailure { [self] error in
                log(.warning, "client \(parked.id): could not wake from parking: \(error)")
                session.abandon()
            }
    }

    func log(_ level: PluginContext.LogLevel, _ message: String) {
        context.log(level, message)
    }

    func pinCounter(_ reason: PinReason) { metrics?.pinned(reason) }
}

extension FunnelEvents {
    /// Builds the detail text only when someone listens.
    func publishIfWanted(_ name: Name, _ detail: () -> String) {
        if wanted(name) { publish(name, detail()) }
    }
}

/// A connection handed to a waiting client on the loop where it came back is taken at once,
/// without a task: under a backlog that is every statement, and the task (a closure, the loop's
/// queue) cost about 1,200 instructions. Once per stack: a taker that passes the connection on
/// (it left meanwhile) queues the next hand-over, so a chain of them never deepens the stack.
final class InlineHandOver {
    private var active = false

    /// Runs `body` now when on `loop` and no hand-over is running inline on it; false when it
    /// did not (the caller queues it as a task). Not escaping: no closure is allocated for the
    /// hand-overs that run inline.
    func runInline(on loop: EventLoop, _ body: () -> Void) -> Bool {
        guard loop.inEventLoop, !active else { return false }
        active = true
        defer { active = false }
        body()
        return true
    }
}
