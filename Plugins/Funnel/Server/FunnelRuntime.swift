import Logging
import MySQLWire
import NIOCore
import NIOPosix
import PluginKit
import Pooling

/// The running funnel: the event loops, the listener, the pool and what every client session
/// shares. Created by the plugin's start(), shut down by its stop().
final class FunnelRuntime: @unchecked Sendable {
    let configuration: FunnelConfiguration
    let coordinator: PoolCoordinator
    let credentials = CredentialStore()
    let users: UserDirectory
    let events: FunnelEvents
    let clients = ClientDirectory()
    let group: MultiThreadedEventLoopGroup
    private let context: PluginContext
    private var listener: Channel?

    init(configuration: FunnelConfiguration, context: PluginContext) throws {
        self.configuration = configuration
        self.context = context
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        events = FunnelEvents(context: context)
        let connector = BackendConnector(connectTimeout: .nanoseconds(Int64(configuration.connectTimeout * 1e9)),
                                         maxPacketSize: configuration.maxPacketSize)
        users = UserDirectory(configuration: configuration, connector: connector)
        coordinator = try PoolCoordinator(configuration: configuration, credentials: credentials, group: group, events: events)
        for user in configuration.users {
            if let stage1 = user.stage1 { credentials[user.name] = .stage1(stage1) }
        }
    }

    func start() throws {
        let maxPacketSize = configuration.maxPacketSize
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(MySQLPacketDecoder(maximumLogicalPacketSize: maxPacketSize)),
                        MessageToByteHandler(MySQLPacketEncoder()),
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
        log(.info, "listening on \(configuration.address), backends \(configuration.backends.map(\.description).joined(separator: ", ")), pool mode \(configuration.defaultPoolMode.rawValue)")
    }

    func stop() {
        try? listener?.close().wait()
        for session in clients.all { session.closeFromServer() }
        coordinator.stop()
        try? group.syncShutdownGracefully()
    }

    func log(_ level: PluginContext.LogLevel, _ message: String) {
        context.log(level, message)
    }

    // Hooks for statistics; filled in by the stats integration.
    func recordQuery(backend: BackendID, nanoseconds: UInt64, failed: Bool) {}
    func pinCounter(_ reason: PinReason) {}
}

extension FunnelEvents {
    /// Builds the detail text only when someone listens.
    func publishIfWanted(_ name: Name, _ detail: () -> String) {
        if wanted(name) { publish(name, detail()) }
    }
}
