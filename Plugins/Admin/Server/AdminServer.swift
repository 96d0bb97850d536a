import Foundation
import MySQLWire
import NIOCore
import NIOPosix
import PluginKit

/// The admin port: its own one-thread event loop for the sockets, and one worker thread that
/// runs the statements, since a statement may block (LOAD PLUGIN starts a plugin, RELOAD waits
/// for every plugin's reload) and the loop must keep answering meanwhile.
final class AdminServer: @unchecked Sendable {
    let access: ServiceAccess
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let worker = NIOThreadPool(numberOfThreads: 1)
    private var listener: Channel?
    private let lock = NSLock()
    private var _credentials: AdminSettings.Credentials
    private var lastConnectionID: UInt32 = 0

    init(context: PluginContext, credentials: AdminSettings.Credentials) {
        access = ServiceAccess(context: context)
        _credentials = credentials
    }

    /// Swapped by reload; a session reads them once, at login.
    var credentials: AdminSettings.Credentials {
        get { lock.lock(); defer { lock.unlock() }; return _credentials }
        set { lock.lock(); _credentials = newValue; lock.unlock() }
    }

    func start(host: String, port: Int) throws -> SocketAddress? {
        worker.start()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(MySQLPacketDecoder(maximumLogicalPacketSize: AdminSession.maxPacketSize)),
                        MessageToByteHandler(MySQLPacketEncoder()),
                        AdminSession(id: self.nextConnectionID(), server: self),
                    ])
                }
            }
        let channel = try bootstrap.bind(host: host, port: port).wait()
        listener = channel
        return channel.localAddress
    }

    func stop() {
        try? listener?.close().wait()
        listener = nil
        // The worker first: a statement still running completes onto a loop that is alive.
        try? worker.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
    }

    /// Runs a statement on the worker thread; the future completes on `loop`.
    func execute(_ sql: String, session: SessionInfo, on loop: EventLoop) -> EventLoopFuture<Response> {
        let executor = Executor(access: access, session: session)
        return worker.runIfActive(eventLoop: loop) { executor.run(sql) }
    }

    private func nextConnectionID() -> UInt32 {
        lock.lock()
        defer { lock.unlock() }
        lastConnectionID &+= 1
        return lastConnectionID
    }
}
