import MySQLWire
import NIOCore
import Pooling

/// One logged-in backend connection, as the funnel sees it. Its mutable state is touched only
/// on its channel's event loop, except `schema` and `variables`, which the client holding the
/// lease reads and writes while it holds it (one holder at a time, handed over by the pool).
final class BackendConnection: @unchecked Sendable {
    let id: ConnectionID
    let backend: BackendID
    let user: String
    let channel: Channel
    let handler: BackendHandler
    /// The server's thread id (CONNECTION_ID()) of this connection.
    let serverThreadID: UInt32
    let capabilities: CapabilityFlags

    /// The backend's shared figures (in-flight queries, latency); set when the pool adopts it.
    var state: BackendState?
    /// The schema the connection has selected now.
    var schema: String?
    /// What LAST_INSERT_ID() returns on this connection, as far as the funnel saw.
    var lastInsertID: UInt64 = 0
    /// Tracked session variables that differ from a fresh connection's.
    var variables = SessionVariables()

    init(id: ConnectionID, backend: BackendID, user: String, channel: Channel, handler: BackendHandler,
         greeting: BackendHandler.Greeting, schema: String?) {
        self.id = id
        self.backend = backend
        self.user = user
        self.channel = channel
        self.handler = handler
        self.serverThreadID = greeting.handshake.connectionID
        self.capabilities = greeting.capabilities
        self.schema = schema
    }

    var eventLoop: EventLoop { channel.eventLoop }

    /// Reading again after backpressure paused it (from any thread).
    func resumeReading() {
        eventLoop.execute { self.handler.resumeReading() }
    }

    /// Runs a funnel-internal command on the connection's loop.
    func run(_ payload: ByteBuffer, collect: Bool = false) -> EventLoopFuture<BackendHandler.InternalResult> {
        eventLoop.flatSubmit { self.handler.runInternal(payload, collect: collect, on: self.eventLoop) }
    }

    func query(_ sql: String, collect: Bool = false) -> EventLoopFuture<BackendHandler.InternalResult> {
        var payload = channel.allocator.buffer(capacity: sql.utf8.count + 1)
        ComQuery(sql: sql).write(into: &payload, capabilities: capabilities)
        return run(payload, collect: collect)
    }

    /// Checks the internal command succeeded; a backend ERR becomes a failed future.
    static func requireOK(_ result: BackendHandler.InternalResult) throws {
        if let error = result.summary.error { throw BackendError.refused(error) }
    }

    func close() {
        channel.close(promise: nil)
    }

    /// COM_QUIT, then close: the server ends the session cleanly (rolling back what is open).
    func quit() {
        eventLoop.execute {
            var payload = self.channel.allocator.buffer(capacity: 1)
            payload.writeInteger(CommandCode.quit.rawValue)
            let frame = self.channel.allocator.mysqlFrame(MySQLPacket(sequenceID: 0, payload: payload))
            self.channel.writeAndFlush(frame).whenComplete { _ in
                self.channel.close(promise: nil)
            }
        }
    }
}
