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
    let metrics: FunnelMetrics?
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
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        events = FunnelEvents(context: context)
        let connector = BackendConnector(connectTimeout: .nanoseconds(Int64(configuration.connectTimeout * 1e9)),
                                         maxPacketSize: configuration.maxPacketSize)
        users = UserDirectory(configuration: configuration, connector: connector)
        registry = BackendRegistry(algorithm: configuration.balance, policies: policies)
        coordinator = PoolCoordinator(configuration: configuration, registry: registry, credentials: credentials,
                                      connector: connector, group: group, events: events)
        metrics = FunnelMetrics(context: context, digests: configuration.queryDigests)
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

    func start() throws {
        let maxPacketSize = configuration.maxPacketSize
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A channel keeps its last receive buffer for the next read, so an idle client holds
            // one: NIO's default 2 KiB start would be most of an idle client's memory. Commands
            // are small; a large one grows the buffer for as long as it is needed.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 64 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(MySQLPacketDecoder(maximumLogicalPacketSize: maxPacketSize)),
                        ClientSession(id: self.clients.makeID(), server: self),
                    ])
                }
            }
        do {
            listener = try bootstrap.bind(host: configuration.address.host, port: configuration.address.port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw FunnelConfigurationError("cannot listen on \(configuration.address): \(error)")
        }
        coordinator.start()
        health.start()
        metrics?.startCollecting(self)
        log(.info, "listening on \(configuration.address), backends \(configuration.backends.map { "\($0.address)(\($0.role.rawValue))" }.joined(separator: ", ")), pool mode \(configuration.defaultPoolMode.rawValue), balance \(configuration.balance.rawValue)")
    }

    func stop() {
        try? listener?.close().wait()
        metrics?.stopCollecting()
        health.stop()
        for session in clients.all { session.closeFromServer() }
        coordinator.stop()
        try? group.syncShutdownGracefully()
    }

    /// SIGHUP or admin RELOAD: live settings change, and the backend list is diffed (new ones
    /// added, missing ones drained, changed ones updated), as the admin's commands would.
    func apply(_ new: FunnelConfiguration) {
        let old = configuration
        configuration = new
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
