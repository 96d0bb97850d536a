import MySQLWire
import NIOCore
import NIOPosix
import Pooling

/// Opens backend connections: connect (TCP or a Unix socket), the login handshake, then session
/// tracking on, so the funnel learns of every schema and tracked variable change from OK packets.
struct BackendConnector {
    /// What the funnel asks of every backend connection. No DEPRECATE_EOF (MariaDB does not
    /// speak it), no compression, no TLS; SESSION_TRACK is what makes transaction pooling exact.
    static let capabilities: CapabilityFlags = [
        .longPassword, .longFlag, .protocol41, .transactions, .secureConnection, .multiStatements,
        .multiResults, .psMultiResults, .pluginAuth, .pluginAuthLenencClientData, .connectAttrs,
        .sessionTrack, .localFiles,
    ]

    /// The variables restored on the connection a transaction-pooled client gets next.
    static let trackedVariables = ["autocommit", "character_set_client", "character_set_connection",
                                   "character_set_results", "collation_connection", "sql_mode", "time_zone"]

    static let enableTracking = "SET SESSION session_track_schema = ON, session_track_state_change = ON, "
        + "session_track_system_variables = '\(trackedVariables.joined(separator: ","))'"

    let connectTimeout: TimeAmount
    let maxPacketSize: Int

    func connect(id: ConnectionID, backend: BackendID, address: HostPort, user: String, credential: BackendCredential,
                 database: String?, on eventLoop: EventLoop) -> EventLoopFuture<BackendConnection> {
        let greetingPromise = eventLoop.makePromise(of: BackendHandler.Greeting.self)
        let handler = BackendHandler(login: .init(user: user, credential: credential, database: database,
                                                  capabilities: Self.capabilities), promise: greetingPromise,
                                     maxPacketSize: maxPacketSize)
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandlers([handler.writer, handler]) }
            }
            .connect(to: address)
        let timeout = eventLoop.scheduleTask(in: connectTimeout) { greetingPromise.fail(BackendError.timeout) }
        return connected.flatMapError { error in
            greetingPromise.fail(error)
            return eventLoop.makeFailedFuture(error)
        }.flatMap { channel in
            greetingPromise.futureResult.flatMapError { error in
                channel.close(promise: nil)
                return eventLoop.makeFailedFuture(error)
            }.flatMap { greeting -> EventLoopFuture<BackendConnection> in
                timeout.cancel()
                let connection = BackendConnection(id: id, backend: backend, user: user, channel: channel, handler: handler,
                                                   greeting: greeting, schema: database)
                return connection.query(Self.enableTracking).flatMapThrowing { result in
                    try BackendConnection.requireOK(result)
                    return connection
                }.flatMapError { error in
                    channel.close(promise: nil)
                    return eventLoop.makeFailedFuture(error)
                }
            }
        }.always { _ in timeout.cancel() }
    }
}
