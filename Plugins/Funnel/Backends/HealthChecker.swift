import MySQLWire
import NIOCore
import NIOPosix
import Pooling

/// Active health checks: every interval each backend (but those draining) is probed: a TCP
/// connect and the server's greeting, plus a login and COM_PING when a check user is set.
/// A backend that fails `ejectAfter` checks in a row goes DOWN; one check passing brings a
/// DOWN backend back UP. MAINTENANCE is the operator's and is left alone.
final class HealthChecker: @unchecked Sendable {
    private let coordinator: PoolCoordinator
    private let connector: BackendConnector
    private let group: EventLoopGroup
    private var interval: TimeAmount
    private let timeout: TimeAmount
    private let checkUser: String?
    private let checkCredential: BackendCredential
    private var task: RepeatedTask?

    init(coordinator: PoolCoordinator, connector: BackendConnector, group: EventLoopGroup, interval: TimeAmount,
         timeout: TimeAmount, checkUser: String?, checkPassword: String) {
        self.coordinator = coordinator
        self.connector = connector
        self.group = group
        self.interval = interval
        self.timeout = timeout
        self.checkUser = checkUser
        self.checkCredential = BackendCredential(password: checkPassword)
    }

    func start() {
        task = group.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.checkAll()
        }
    }

    func stop() { task?.cancel() }

    func update(interval seconds: Double) {
        let new = TimeAmount.nanoseconds(Int64(seconds * 1e9))
        guard new != interval else { return }
        interval = new
        task?.cancel()
        start()
    }

    private func checkAll() {
        for backend in coordinator.registry.all where backend.health != .draining && backend.health != .maintenance {
            let started = NIODeadline.now()
            probe(backend).whenComplete { result in
                let elapsed = UInt64(max((NIODeadline.now() - started).nanoseconds, 0))
                backend.lastCheckMicros.store(elapsed / 1000, ordering: .relaxed)
                backend.metrics?.check?.record(nanoseconds: elapsed)
                switch result {
                case .success:
                    backend.consecutiveFailures.store(0, ordering: .relaxed)
                    if backend.health == .down { self.coordinator.setHealth(backend, .up, reason: "health check passed") }
                case .failure(let error):
                    self.coordinator.backendFailed(backend, reason: "health check: \(error)")
                }
            }
        }
    }

    private func probe(_ backend: BackendState) -> EventLoopFuture<Void> {
        let loop = group.next()
        if let checkUser {
            return connector.connect(id: ConnectionID(0), backend: backend.id, address: backend.address, user: checkUser,
                                     credential: checkCredential, database: nil, on: loop)
                .flatMap { connection in
                    var ping = connection.channel.allocator.buffer(capacity: 1)
                    ping.writeInteger(CommandCode.ping.rawValue)
                    return connection.run(ping).flatMapThrowing { try BackendConnection.requireOK($0) }
                        .always { _ in connection.quit() }
                }
        }
        return GreetingProbe.check(address: backend.address, timeout: timeout, on: loop)
    }
}

/// The cheapest proof of life: the server accepts a connection and sends its greeting.
enum GreetingProbe {
    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = MySQLPacket
        let promise: EventLoopPromise<Void>
        init(promise: EventLoopPromise<Void>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var payload = unwrapInboundIn(data).payload
            if (try? HandshakeV10(from: &payload)) != nil {
                promise.succeed(())
            } else {
                promise.fail(BackendError.protocolViolation("no greeting (server busy or not MySQL)"))
            }
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) { promise.fail(BackendError.closed) }
        func errorCaught(context: ChannelHandlerContext, error: Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }

    static func check(address: HostPort, timeout: TimeAmount, on loop: EventLoop) -> EventLoopFuture<Void> {
        let promise = loop.makePromise(of: Void.self)
        let deadline = loop.scheduleTask(in: timeout) { promise.fail(BackendError.timeout) }
        ClientBootstrap(group: loop).connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(MySQLPacketDecoder(maximumLogicalPacketSize: 1 << 16)), Handler(promise: promise),
                    ])
                }
            }
            .connect(to: address)
            .whenComplete { result in
                switch result {
                case .success(let channel): promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure(let error): promise.fail(error)
                }
            }
        return promise.futureResult.always { _ in deadline.cancel() }
    }
}
