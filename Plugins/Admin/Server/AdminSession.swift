import MySQLWire
import NIOCore

/// One admin connection: the server side of the handshake (mysql_native_password against the
/// one admin user), then the command loop. Statements run one at a time on the server's worker;
/// a command that arrives while one runs waits its turn. Everything here runs on the channel's loop.
final class AdminSession: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = MySQLPacket
    typealias OutboundOut = MySQLPacket

    /// Admin statements are short; a longer packet ends the connection, as max_allowed_packet does.
    static let maxPacketSize = 16 << 20

    /// No TLS, no compression, no multi-statements, classic EOF packets: what a SQL console needs.
    static let offeredCapabilities: CapabilityFlags = [
        .longPassword, .foundRows, .longFlag, .connectWithDB, .ignoreSpace, .protocol41, .interactive, .transactions,
        .secureConnection, .pluginAuth, .connectAttrs, .pluginAuthLenencClientData,
    ]

    private enum Phase {
        case greeted
        case switchingAuth(HandshakeResponse41)
        case command
        case closed
    }

    private let id: UInt32
    private let server: AdminServer
    private let nonce: [UInt8]
    private var phase = Phase.greeted
    private var capabilities = AdminSession.offeredCapabilities
    private var session: SessionInfo
    private var busy = false
    private var queued: [MySQLPacket] = []

    init(id: UInt32, server: AdminServer) {
        self.id = id
        self.server = server
        nonce = (0..<20).map { _ in UInt8.random(in: 33...126) }
        session = SessionInfo(connectionID: id, user: "", clientAddress: "", database: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        session.clientAddress = context.remoteAddress?.ipAddress ?? "unknown"
        send(greeting(), sequenceID: 0, context: context)
    }

    private func greeting() -> HandshakeV10 {
        HandshakeV10(serverVersion: "5.5.5-" + SessionInfo.serverVersion, connectionID: id, authPluginData: nonce,
                     capabilities: Self.offeredCapabilities, characterSet: CharacterSetID.utf8mb4GeneralCI,
                     statusFlags: .autocommit, authPluginName: NativePassword.pluginName)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        if packet.isContinued {
            fatal(AdminError(code: 1153, sqlState: "08S01", message: "Got a packet bigger than 'max_allowed_packet' bytes"),
                  sequenceID: packet.sequenceID &+ 1, context: context)
            return
        }
        switch phase {
        case .greeted: handshakeResponse(packet, context: context)
        case .switchingAuth(let response):
            var payload = packet.payload
            finishLogin(response, authResponse: payload.readBytes(length: payload.readableBytes) ?? [],
                        sequenceID: packet.sequenceID &+ 1, context: context)
        case .command:
            if busy { queued.append(packet) } else { command(packet, context: context) }
        case .closed:
            break
        }
    }

    // MARK: authentication

    private func handshakeResponse(_ packet: MySQLPacket, context: ChannelHandlerContext) {
        var payload = packet.payload
        guard payload.readableBytes != 32 else {   // an SSLRequest
            fatal(AdminError(code: 1043, sqlState: "08S01", message: "TLS is not supported on the admin port"),
                  sequenceID: packet.sequenceID &+ 1, context: context)
            return
        }
        guard let response = try? HandshakeResponse41(from: &payload) else {
            fatal(AdminError(code: 1043, sqlState: "08S01", message: "Bad handshake"), sequenceID: packet.sequenceID &+ 1, context: context)
            return
        }
        capabilities = response.capabilities.intersection(Self.offeredCapabilities)
        session.user = response.username
        session.database = response.database.flatMap { $0.isEmpty ? nil : $0 }
        if let plugin = response.authPluginName, plugin != NativePassword.pluginName {
            // Ask for mysql_native_password over our nonce instead (MySQL 8 clients start with caching_sha2).
            phase = .switchingAuth(response)
            send(AuthSwitchRequest(pluginName: NativePassword.pluginName, pluginData: nonce), sequenceID: packet.sequenceID &+ 1,
                 context: context)
        } else {
            finishLogin(response, authResponse: response.authResponse, sequenceID: packet.sequenceID &+ 1, context: context)
        }
    }

    private func finishLogin(_ response: HandshakeResponse41, authResponse: [UInt8], sequenceID: UInt8, context: ChannelHandlerContext) {
        let expected = server.credentials
        guard response.username == expected.user,
              NativePassword.verify(response: authResponse, nonce: nonce, storedHash: expected.storedHash) != nil else {
            server.access.context.log(.warning, "refused admin login as '\(response.username)' from \(session.clientAddress)")
            // MariaDB's words, so scripts that match on them keep working.
            fatal(AdminError(code: 1045, sqlState: "28000",
                             message: "Access denied for user '\(response.username)'@'\(session.clientAddress)' (using password: \(authResponse.isEmpty ? "NO" : "YES"))"),
                  sequenceID: sequenceID, context: context)
            return
        }
        phase = .command
        server.access.context.log(.info, "admin login as '\(response.username)' from \(session.clientAddress)")
        send(OKPacket(statusFlags: .autocommit), sequenceID: sequenceID, context: context)
    }

    // MARK: commands

    private func command(_ packet: MySQLPacket, context: ChannelHandlerContext) {
        var payload = packet.payload
        let reply = packet.sequenceID &+ 1
        guard let code = payload.readInteger(as: UInt8.self) else { return }
        switch CommandCode(rawValue: code) {
        case .quit:
            phase = .closed
            context.close(promise: nil)
        case .ping, .resetConnection:
            send(OKPacket(statusFlags: .autocommit), sequenceID: reply, context: context)
        case .initDB:
            // USE is harmless: every table lives in `admin`, whatever the client calls the schema.
            session.database = payload.readString(length: payload.readableBytes)
            send(OKPacket(statusFlags: .autocommit), sequenceID: reply, context: context)
        case .fieldList:
            // The CLI's tab completion asks for columns; no columns is a valid answer.
            send(EOFPacket(statusFlags: .autocommit), sequenceID: reply, context: context)
        case .statistics:
            // A bare string, no header: what the CLI's `status` prints.
            var text = context.channel.allocator.buffer(capacity: 64)
            text.writeString("chassis admin port; SHOW HELP lists the statements")
            context.writeAndFlush(wrapOutboundOut(MySQLPacket(sequenceID: reply, payload: text)), promise: nil)
        case .query:
            run(payload.readString(length: payload.readableBytes) ?? "", sequenceID: reply, context: context)
        default:
            send(response: .error(AdminError(code: 1047, sqlState: "08S01", message: "Unknown command on the admin port")),
                 sequenceID: reply, context: context)
        }
    }

    private func run(_ sql: String, sequenceID: UInt8, context: ChannelHandlerContext) {
        busy = true
        server.execute(sql, session: session, on: context.eventLoop).whenComplete { result in
            self.busy = false
            guard case .command = self.phase else { return }
            switch result {
            case .success(let response): self.send(response: response, sequenceID: sequenceID, context: context)
            case .failure: self.send(response: .error(.refused("the admin port is stopping")), sequenceID: sequenceID, context: context)
            }
            while !self.busy, !self.queued.isEmpty, case .command = self.phase {
                self.command(self.queued.removeFirst(), context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .closed
        queued = []
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        phase = .closed
        context.close(promise: nil)
    }

    // MARK: writing

    private func send(response: Response, sequenceID: UInt8, context: ChannelHandlerContext) {
        let writer = ResultSetWriter(capabilities: capabilities, allocator: context.channel.allocator)
        for packet in writer.packets(for: response, firstSequenceID: sequenceID) {
            context.write(wrapOutboundOut(packet), promise: nil)
        }
        context.flush()
    }

    private func send<M: MySQLMessage>(_ message: M, sequenceID: UInt8, context: ChannelHandlerContext) {
        var payload = context.channel.allocator.buffer(capacity: 64)
        message.write(into: &payload, capabilities: capabilities)
        context.writeAndFlush(wrapOutboundOut(MySQLPacket(sequenceID: sequenceID, payload: payload)), promise: nil)
    }

    /// An error after which the connection cannot go on (handshake failures, as MariaDB does).
    private func fatal(_ error: AdminError, sequenceID: UInt8, context: ChannelHandlerContext) {
        send(response: .error(error), sequenceID: sequenceID, context: context)
        phase = .closed
        context.close(promise: nil)
    }
}
