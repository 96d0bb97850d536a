import CChassis
import Glibc
import MySQLWire
import NIOCore
import PluginKit
import Pooling

/// One client connection: the greeting and authentication, then the command loop, which
/// borrows a backend connection from the pool for a transaction (or the whole session),
/// relays the response packet by packet, and gives the connection back only in a known state.
///
/// Everything here runs on the client channel's event loop. Relay callbacks arrive on the
/// backend's loop and either write to the client channel (thread-safe) or hop here.
final class ClientSession: ChannelInboundHandler, RelaySink, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the funnel offers clients: what it can relay unchanged from its backend connections.
    static let offeredCapabilities: CapabilityFlags = [
        .longPassword, .foundRows, .longFlag, .connectWithDB, .localFiles, .ignoreSpace, .protocol41, .interactive,
        .transactions, .secureConnection, .multiStatements, .multiResults, .psMultiResults, .pluginAuth,
        .connectAttrs, .pluginAuthLenencClientData, .sessionTrack,
    ]

    private enum Phase {
        case greeted
        case lookingUp
        indirect case switchingAuth(HandshakeResponse41, UserEntry)   // boxed: idle clients stay small
        case command
        /// Handed over to the parking lot (a new session takes the client back): the channel
        /// closing is not the client leaving.
        case parking
        case closed
    }

    /// The command in flight.
    private struct Command {
        var code: UInt8
        var firstSequenceID: UInt8
        /// Packets not sent to a backend yet (all of them until a connection is attached).
        var pending: [MySQLPacket]
        /// The client's last packet was 0xFFFFFF bytes long: the next one continues it.
        var continues: Bool
        var sent = false
        var startedAt: NIODeadline
        /// When a backend connection came, if the command had to wait for one: the backend's
        /// time (its latency figures, the digests) starts there, the client's at `startedAt`.
        var servedAt: NIODeadline?
        /// The first packet of a COM_QUERY (the command byte, then the SQL), for the stats plugin's
        /// digests: the payload itself, not a slice of it (one retain, not a new buffer view).
        var sql: ByteBuffer?
    }

    let id: UInt32
    let snapshot = ClientSnapshotBox()
    private let server: FunnelRuntime
    private var context: ChannelHandlerContext!
    /// For the relay callbacks on backend loops: a context must not be touched off its loop.
    private var channel: Channel!
    /// Goes into the pipeline right before this handler (FunnelRuntime).
    let writer = DirectSocketWriter()
    private var readRearm = DirectReadRearm()
    private(set) var eventLoop: EventLoop!
    private var phase = Phase.greeted
    /// Cuts the client's bytes into packets; `remainder` holds a packet that has not fully arrived.
    private var decoder: MySQLPacketDecoder
    private var remainder = PacketRemainder()
    /// Rebuilt from a parked client: the login is done, no greeting is due.
    private let resumed: Bool
    /// Commands started, and what the idle sweep saw of that count (see `sweep`).
    private var commandsStarted: UInt32 = 0
    private var commandsAtSweep: UInt32 = 0
    private var idleSweeps = 0
    private let nonce: [UInt8]
    private(set) var capabilities: CapabilityFlags = []
    private var handshakeCollation: UInt8 = CharacterSetID.utf8mb4GeneralCI
    private(set) var userName = "" {
        didSet { namesChanged() }
    }
    private var admitted = false
    private var poolMode = PoolMode.transaction
    private(set) var database: String? {
        didSet { namesChanged() }
    }
    private var variables = SessionVariables()
    private(set) var pins: Set<PinReason> = [] {
        didSet {
            pinnedLabel = pins.map(\.rawValue).sorted().joined(separator: ",")
            snapshotNamesStale = true
        }
    }
    /// `pins` as the clients table shows them, made when they change, not on every statement.
    private var pinnedLabel = ""
    private var backend: BackendConnection?
    /// The stats plugin's histograms of the user (backlog wait, command time), and its digest
    /// scope of the user and database (nil: none to be had, the strings go with each query);
    /// resolved again when either name changed (a flag, so a statement compares no strings).
    private var userSeries: FunnelMetrics.UserSeries?
    private var digestScope: StatsClient.DigestScope?
    private var statsKeysStale = true
    /// What the snapshot last got that changes seldom, so a statement republishes only its state
    /// and command (no strings copied, no refcounts touched).
    private var snapshotNamesStale = true
    private var snapshotConnection: ConnectionID?
    /// This client's event loop as the pool knows it (connections on the same loop go first).
    private var affinity: Int?
    private var waiting: RequestID?
    private var current: Command?
    private var queued: [MySQLPacket] = []
    private var lastStatus: ServerStatusFlags = .autocommit
    /// This connection's script state in the lua plugin (nil without scripting).
    private var script: OpaquePointer?
    /// The script's queued queries still to run for the current command, the one running, and
    /// whether the client already got its one answer.
    private var scriptQueue: [ScriptHooks.Query] = []
    private var scriptQueryID: Int64 = 0
    private var scriptAnswered = false
    private var scriptBuffering = false
    /// proxy.connection.connection_close: close the client once this command is answered.
    private var closeAfterAnswer = false
    /// connect_server answered: the script plays the server for this connection.
    private var scriptIsServer = false
    /// The backend the script chose with backend_ndx, for the next acquisition.
    private var scriptBackend: BackendID?
    private var readWriteSplit = false
    private var readYourWrites = TimeAmount.zero
    /// When the client last sent a statement that may write (for read-your-writes).
    private var lastWrite: NIODeadline?
    /// The id of the client's last INSERT with an AUTO_INCREMENT (the OK packet's), for LAST_INSERT_ID().
    private var lastInsertID: UInt64 = 0
    private var uploadingLocalFile = false
    /// The backend of an open transaction died: refuse everything but ROLLBACK, so the rest
    /// of that transaction never runs in autocommit on another connection.
    private var transactionLost = false
    /// The backend of the response being relayed (backend loop only).
    private var relayBackend: BackendState?
    /// Backend-loop side of a script's queued query: its response is kept, not forwarded.
    private var relayBuffering = false
    private var relayBuffer: [MySQLPacket] = []
    private var relaySentAt = NIODeadline.now()
    private var relayFirstAt: NIODeadline?
    private var relayHandler: BackendHandler?
    /// The sequence id the final packet of the response must carry instead of its own (set when
    /// the funnel answered a LOCAL INFILE request for a client that cannot send files).
    private var relayRenumber: UInt8?
    private(set) var remoteAddress = ""

    init(id: UInt32, server: FunnelRuntime) {
        self.id = id
        self.server = server
        nonce = (0..<20).map { _ in UInt8.random(in: 33...126) }
        decoder = MySQLPacketDecoder(maximumLogicalPacketSize: server.configuration.maxPacketSize)
        resumed = false
    }

    /// A parked client waking up: its session as it was, on a new channel.
    init(resuming parked: ParkedClient, server: FunnelRuntime) {
        id = parked.id
        self.server = server
        nonce = parked.nonce.bytes
        decoder = MySQLPacketDecoder(maximumLogicalPacketSize: server.configuration.maxPacketSize)
        resumed = true
        phase = .command
        admitted = true
        userName = parked.user
        database = parked.database
        remoteAddress = parked.address
        capabilities = parked.capabilities
        handshakeCollation = parked.handshakeCollation
        poolMode = parked.poolMode
        readWriteSplit = parked.readWriteSplit
        readYourWrites = .nanoseconds(Int64(server.configuration.readYourWrites * 1e9))
        variables = parked.variables
        lastStatus = parked.lastStatus
        lastInsertID = parked.lastInsertID
        lastWrite = parked.lastWrite
        script = parked.script
        scriptIsServer = parked.scriptIsServer
    }

    // MARK: greeting and authentication

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        channel = context.channel
        readRearm.attach(context)
        eventLoop = context.eventLoop
        affinity = server.coordinator.affinity(of: context.eventLoop)
        if resumed {
            snapshot.update { $0.address = remoteAddress }
            publishSnapshot()
            server.clients.add(self)
            return
        }
        // A client on the Unix socket is on this machine: MariaDB calls that host localhost.
        remoteAddress = context.remoteAddress.map { $0.ipAddress ?? "localhost" } ?? "unknown"
        snapshot.update { $0.address = remoteAddress }
        let greeting = HandshakeV10(serverVersion: "5.5.5-" + server.configuration.serverVersion, connectionID: id,
                                    authPluginData: nonce, capabilities: Self.offeredCapabilities,
                                    characterSet: CharacterSetID.utf8mb4GeneralCI, statusFlags: .autocommit,
                                    authPluginName: NativePassword.pluginName)
        server.clients.add(self)
        script = server.scripting?.create(id: id, address: remoteAddress, user: "", database: nil, capabilities: [])
        if let script, let own = server.scripting?.connectServer(script), let first = own.first {
            // The script is the server (connect_server answered): its greeting, then it answers
            // the login and every query itself.
            scriptIsServer = true
            context.writeMySQLPacket(MySQLPacket(sequenceID: 0, payload: first), flush: true)
            if first.getInteger(at: first.readerIndex, as: UInt8.self) == ERRPacket.header {
                phase = .closed
                context.close(promise: nil)
            }
            return
        }
        var greetingPayload = context.channel.allocator.buffer(capacity: 96)
        greeting.write(into: &greetingPayload, capabilities: Self.offeredCapabilities)
        if let script, let own = server.scripting?.replace(CHASSIS_SCRIPT_HOOK_READ_HANDSHAKE, script, payload: greetingPayload),
           let first = own.first {
            // read_handshake answered instead of the greeting: the connection ends there (as in 0.8).
            context.writeMySQLPacket(MySQLPacket(sequenceID: 0, payload: first), flush: true)
            phase = .closed
            context.close(promise: nil)
            return
        }
        context.writeMySQLPacket(MySQLPacket(sequenceID: 0, payload: greetingPayload), flush: true)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = remainder.joined(with: unwrapInboundIn(data))
        do {
            while let packet = try decoder.decode(buffer: &buffer) {
                handle(packet)
                if case .closed = phase { return }
            }
        } catch {
            errorCaught(context: context, error: error)   // a packet over max-packet-size
            return
        }
        remainder.keep(buffer, allocator: context.channel.allocator)
    }

    private func handle(_ packet: MySQLPacket) {
        do {
            switch phase {
            case .greeted: try handshakeResponse(packet)
            case .switchingAuth(let response, let user): authSwitchResponse(packet, response: response, user: user)
            case .command: commandPacket(packet)
            case .lookingUp, .parking, .closed: break
            }
        } catch {
            fatal(ERRPacket(errorCode: 1043, sqlState: "08S01", message: "Bad handshake: \(error)"), sequenceID: packet.sequenceID &+ 1)
        }
    }

    private func handshakeResponse(_ packet: MySQLPacket) throws {
        var payload = packet.payload
        if payload.readableBytes == 32 {
            // An SSLRequest: the funnel does not offer TLS, so a client that insists cannot go on.
            fatal(ERRPacket(errorCode: 1043, sqlState: "08S01", message: "funnel: TLS is not supported on this port"),
                  sequenceID: packet.sequenceID &+ 1)
            return
        }
        let response = try HandshakeResponse41(from: &payload)
        if let script, let answer = server.scripting?.readAuth(script, payload: packet.payload) {
            // The script refused the login itself (read_auth + proxy.response ERR). Accepting one
            // (the script as the server) is not wired yet: other answers are ignored.
            if let first = answer.first, first.getInteger(at: first.readerIndex, as: UInt8.self) == ERRPacket.header {
                context.writeMySQLPacket(MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: first), flush: true)
                phase = .closed
                context.close(promise: nil)
                return
            }
            if scriptIsServer, let first = answer.first {
                context.writeMySQLPacket(MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: first), flush: true)
                userName = response.username
                capabilities = response.capabilities.intersection(Self.offeredCapabilities)
                database = response.database
                phase = .command
                server.scripting?.setConnection(script, id: id, address: remoteAddress, user: userName, database: database,
                                                capabilities: capabilities)
                publishSnapshot()
                return
            }
            server.log(.warning, "client \(id): read_auth answered with something other than an error; ignored")
        }
        capabilities = response.capabilities.intersection(Self.offeredCapabilities)
        handshakeCollation = response.characterSet
        userName = response.username
        phase = .lookingUp
        let loop = context.eventLoop
        server.users.find(response.username, on: loop).hop(to: loop).whenComplete { result in
            guard case .lookingUp = self.phase else { return }
            guard case .success(let user?) = result else {
                if case .failure(let error) = result {
                    // Not "access denied": the password may well be right. The reason (which may
                    // name internal addresses) goes to the log, not to a client not yet logged in.
                    self.server.log(.warning, "client \(self.id): user lookup for '\(response.username)' failed: \(error)")
                    self.fatal(ERRPacket(errorCode: PoolErrors.userLookupFailed, sqlState: "08004",
                                         message: "funnel: cannot check the login of '\(response.username)' now: the user look-up on the backend failed"),
                               sequenceID: packet.sequenceID &+ 1)
                    return
                }
                self.accessDenied(usingPassword: !response.authResponse.isEmpty, sequenceID: packet.sequenceID &+ 1)
                return
            }
            if let plugin = response.authPluginName, plugin != NativePassword.pluginName {
                // Ask the client to answer our nonce with mysql_native_password instead.
                self.phase = .switchingAuth(response, user)
                self.send(AuthSwitchRequest(pluginName: NativePassword.pluginName, pluginData: self.nonce + [0]),
                          sequenceID: packet.sequenceID &+ 1)
                self.context.flush()
            } else {
                self.finishLogin(response, user: user, authResponse: response.authResponse, sequenceID: packet.sequenceID &+ 1)
            }
        }
    }

    private func authSwitchResponse(_ packet: MySQLPacket, response: HandshakeResponse41, user: UserEntry) {
        var payload = packet.payload
        let answer = payload.readBytes(length: payload.readableBytes) ?? []
        finishLogin(response, user: user, authResponse: answer, sequenceID: packet.sequenceID &+ 1)
    }

    private func finishLogin(_ response: HandshakeResponse41, user: UserEntry, authResponse: [UInt8], sequenceID: UInt8) {
        guard let stage1 = NativePassword.verify(response: authResponse, nonce: nonce, storedHash: user.storedHash) else {
            accessDenied(usingPassword: !authResponse.isEmpty, sequenceID: sequenceID)
            return
        }
        if let refusal = server.coordinator.admit(user: user.name) {
            server.events.publishIfWanted(.backlogRefused) { "client=\(self.id) user=\(user.name) reason=\(refusal)" }
            fatal(Self.tooManyConnections(refusal, user: user.name), sequenceID: sequenceID)
            return
        }
        admitted = true
        server.credentials[user.name] = .stage1(stage1)
        userName = user.name
        poolMode = server.users.poolMode(for: user.name)
        readWriteSplit = poolMode == .transaction && server.users.readWriteSplit(for: user.name)
        readYourWrites = .nanoseconds(Int64(server.configuration.readYourWrites * 1e9))
        database = response.database.flatMap { $0.isEmpty ? nil : $0 } ?? user.defaultDatabase
        variables = SessionVariables(handshakeCollation: handshakeCollation)
        phase = .command
        if let script {
            server.scripting?.setConnection(script, id: id, address: remoteAddress, user: user.name, database: database,
                                            capabilities: capabilities)
        }
        publishSnapshot()
        var ok = context.channel.allocator.buffer(capacity: 16)
        OKPacket(statusFlags: .autocommit).write(into: &ok, capabilities: capabilities)
        if let script, let own = server.scripting?.replace(CHASSIS_SCRIPT_HOOK_READ_AUTH_RESULT, script, payload: ok),
           let first = own.first {
            ok = first   // read_auth_result replaced the answer
            if first.getInteger(at: first.readerIndex, as: UInt8.self) == ERRPacket.header {
                context.writeMySQLPacket(MySQLPacket(sequenceID: sequenceID, payload: first), flush: true)
                phase = .closed
                context.close(promise: nil)
                return
            }
        }
        context.writeMySQLPacket(MySQLPacket(sequenceID: sequenceID, payload: ok), flush: true)
        server.events.publishIfWanted(.clientConnected) { "client=\(self.id) user=\(user.name) address=\(self.remoteAddress)" }
    }

    private func accessDenied(usingPassword: Bool, sequenceID: UInt8) {
        fatal(ERRPacket(errorCode: 1045, sqlState: "28000",
                        message: "Access denied for user '\(userName)'@'\(remoteAddress)' (using password: \(usingPassword ? "YES" : "NO"))"),
              sequenceID: sequenceID)
    }

    static func tooManyConnections(_ refusal: ClientAdmission.Refusal, user: String) -> ERRPacket {
        switch refusal {
        case .tooManyClientsForUser:
            return ERRPacket(errorCode: 1203, sqlState: "42000",
                             message: "User \(user) already has more than 'max_user_connections' active connections")
        case .tooManyClients:
            return ERRPacket(errorCode: 1040, sqlState: "08004", message: "Too many connections")
        }
    }

    // MARK: the command loop

    private func commandPacket(_ packet: MySQLPacket) {
        if uploadingLocalFile {
            uploadingLocalFile = packet.payload.readableBytes > 0
            forwardToBackend([packet])
            return
        }
        if var command = current {
            guard command.continues else {
                queued.append(packet)   // a pipelined command waits for the response in flight
                return
            }
            command.continues = packet.isContinued
            if command.sent { forwardToBackend([packet]) } else { command.pending.append(packet) }
            current = command
            return
        }
        start(packet)
    }

    private func start(_ packet: MySQLPacket) {
        guard let code = packet.payload.getInteger(at: packet.payload.readerIndex, as: UInt8.self) else {
            fatal(ERRPacket(errorCode: 1047, sqlState: "08S01", message: "Unknown command"), sequenceID: packet.sequenceID &+ 1)
            return
        }
        current = Command(code: code, firstSequenceID: packet.sequenceID, pending: [packet], continues: packet.isContinued,
                          startedAt: .now())
        commandsStarted &+= 1
        if code == CommandCode.query.rawValue, server.metrics?.digests == true {
            current?.sql = packet.payload
        }
        // The clients table hears of the command when it goes to a backend or waits for one
        // (publishSnapshot): one update per statement fewer.
        var analysis: QueryAnalysis?
        if code == CommandCode.query.rawValue, poolMode == .transaction || transactionLost || readWriteSplit {
            var sql = packet.payload
            sql.moveReaderIndex(forwardBy: 1)
            analysis = QueryAnalysis(sql: sql, multiStatementsAllowed: capabilities.contains(.multiStatements),
                                     needsReadOnly: readWriteSplit)
        }
        if transactionLost {
            if analysis?.isRollback == true {
                transactionLost = false
                replyAndFinish(OKPacket(statusFlags: .autocommit))
            } else if code == CommandCode.quit.rawValue {
                context.close(promise: nil)
            } else {
                replyAndFinish(ERRPacket(errorCode: PoolErrors.transactionLost, sqlState: "40001",
                                         message: "funnel: the backend connection of this transaction was lost, so the server rolled it back; send ROLLBACK to go on"))
            }
            return
        }
        if let script, let hooks = server.scripting, !packet.isContinued {
            let (decision, choice, close) = hooks.readQuery(script, payload: packet.payload)
            chooseBackend(choice)
            closeAfterAnswer = close
            switch decision {
            case .passThrough:
                break
            case .answer(let payloads):
                writeAnswer(payloads, after: packet.sequenceID)
                context.flush()
                finishCommand(nil)
                return
            case .queue(let queries):
                scriptQueue = queries
                scriptAnswered = false
                runNextScriptQuery()
                return
            }
        }
        switch CommandCode(rawValue: code) {
        case .quit:
            context.close(promise: nil)
        case .ping:
            replyAndFinish(OKPacket(statusFlags: lastStatus))
        case .resetConnection:
            // Reset here, not on the backend: the pool resets the connection itself (and keeps
            // session tracking on), so a client's reset never leaves a connection untracked.
            detachBackend(.needsReset)
            clearSessionState()
            replyAndFinish(OKPacket(statusFlags: .autocommit))
        case .changeUser:
            changeUser(packet)
        case .stmtClose where backend == nil, .stmtSendLongData where backend == nil:
            finishCommand(nil)   // no statement can exist without a pinned connection; no reply is due
        default:
            if poolMode == .transaction {
                for reason in analysis?.pins ?? [] { pin(reason) }
                if code == CommandCode.stmtPrepare.rawValue { pin(.preparedStatement) }
                if code == CommandCode.setOption.rawValue { pin(.setOption) }
            }
            let replayInsertID = analysis?.readsLastInsertID == true && lastInsertID != 0
            let role = role(for: analysis)
            if role == .readWrite && analysis?.isReadOnly != true { lastWrite = .now() }
            withBackend(role: role, replayInsertID: replayInsertID)
        }
    }

    /// proxy.connection.backend_ndx: give the connection back, or use a named backend next. A
    /// connection inside a transaction or pinned is never switched.
    private func chooseBackend(_ choice: ScriptHooks.BackendChoice) {
        let movable = pins.isEmpty && !lastStatus.contains(.inTransaction)
        switch choice {
        case .untouched:
            return
        case .release:
            if movable { detachBackend(.clean) }
        case .use(let address):
            scriptBackend = BackendID(address)
            if movable, let backend, backend.backend.name != address { detachBackend(.clean) }
        }
    }

    /// Runs the script's next queued query on a backend connection (the same one for the whole
    /// command); its response goes to read_query_result, not straight to the client.
    private func runNextScriptQuery() {
        guard !scriptQueue.isEmpty, current != nil else { return }
        let next = scriptQueue.removeFirst()
        scriptQueryID = next.id
        current?.pending = [MySQLPacket(sequenceID: 0, payload: next.payload)]
        current?.sent = false
        current?.sql = nil
        scriptBuffering = true
        withBackend()
    }

    private func scriptResult(_ packets: [MySQLPacket], _ summary: ResponseSummary, queryMicros: UInt64, responseMicros: UInt64) {
        guard case .command = phase, let connection = backend, let script, let hooks = server.scripting, let command = current else { return }
        connection.state?.inFlight.wrappingDecrement(ordering: .relaxed)
        connection.state?.recordQuery(nanoseconds: responseMicros * 1000, failed: summary.isError)
        lastStatus = summary.statusFlags
        apply(summary, to: connection)
        let (decision, queue) = hooks.readQueryResult(script, id: scriptQueryID, packets: packets, summary: summary,
                                                      queryMicros: queryMicros, responseMicros: responseMicros)
        scriptQueue = queue
        switch decision {
        case .forward where !scriptAnswered:
            for packet in packets { context.writeMySQLPacket(packet) }
            scriptAnswered = true
        case .answer(let payloads) where !scriptAnswered:
            writeAnswer(payloads, after: command.firstSequenceID)
            scriptAnswered = true
        default:
            break   // ignored, or a second answer (a client gets one per command)
        }
        context.flush()
        if !scriptQueue.isEmpty { return runNextScriptQuery() }
        scriptBuffering = false
        current?.sent = false   // its in-flight count was settled above
        if scriptAnswered {
            finishCommand(nil)
        } else {
            replyAndFinish(ERRPacket(errorCode: 1105, sqlState: "HY000", message: "funnel: the script ignored every result of this command"))
        }
    }

    /// LAST_INSERT_ID() is per connection: the client's last id is set on this connection
    /// first (LAST_INSERT_ID(n) makes the next LAST_INSERT_ID() return n), so the client need
    /// not be pinned after every INSERT.
    private func replayLastInsertID(on connection: BackendConnection) {
        let id = lastInsertID
        connection.query("DO LAST_INSERT_ID(\(id))").flatMapThrowing { try BackendConnection.requireOK($0) }
            .hop(to: eventLoop).whenComplete { result in
                guard case .command = self.phase, self.backend === connection else { return }
                if case .success = result { connection.lastInsertID = id }
                self.sendCurrent(to: connection)
            }
    }

    private func pin(_ reason: PinReason) {
        guard pins.insert(reason).inserted else { return }
        server.events.publishIfWanted(.pinned) { "client=\(self.id) user=\(self.userName) reason=\(reason.rawValue)" }
        server.pinCounter(reason)
    }

    // MARK: getting a backend connection

    private func withBackend(role: BackendRole = .readWrite, replayInsertID: Bool = false) {
        if let backend {
            publishSnapshot()
            return use(backend, replayInsertID: replayInsertID)
        }
        let loop = eventLoop!
        let preferred = scriptBackend
        scriptBackend = nil
        // An idle connection usually serves at once, inside acquire: go on directly then. The
        // callback for a wait is only built when there is one.
        let outcome = server.coordinator.acquire(user: userName, database: database, role: role, backend: preferred,
                                                 affinity: affinity) {
            let handOver = affinity.map { server.handOvers[$0] }
            return { result in
                if handOver?.runInline(on: loop, { self.acquired(result, role: role, replayInsertID: replayInsertID) }) == true {
                    return
                }
                loop.execute { self.acquired(result, role: role, replayInsertID: replayInsertID) }
            }
        }
        switch outcome {
        case .served(let connection, let lease):
            acquired(.success((connection, lease)), role: role, replayInsertID: replayInsertID)
        case .failed(let failure):
            acquired(.failure(failure), role: role, replayInsertID: replayInsertID)
        case .pending(let request):
            waiting = request
            publishSnapshot()
        }
    }

    /// The command goes out on its connection (after LAST_INSERT_ID is carried over, if the
    /// statement reads it and the connection has another one).
    private func use(_ connection: BackendConnection, replayInsertID: Bool) {
        if replayInsertID && connection.lastInsertID != lastInsertID {
            replayLastInsertID(on: connection)
        } else {
            sendCurrent(to: connection)
        }
    }

    /// Read/write splitting: a statement that only reads, outside a transaction and outside
    /// the read-your-writes window, may go to a read-only backend. When unsure: read-write.
    private func role(for analysis: QueryAnalysis?) -> BackendRole {
        guard readWriteSplit, backend == nil, pins.isEmpty, let analysis, analysis.isReadOnly,
              variables["autocommit"].map({ $0 == "ON" || $0 == "1" }) ?? true else { return .readWrite }
        if let lastWrite, NIODeadline.now() < lastWrite + readYourWrites { return .readWrite }
        return .readOnly
    }

    private func acquired(_ result: Result<(BackendConnection, Lease), PoolFailure>, role: BackendRole, replayInsertID: Bool) {
        let afterWait = waiting != nil
        waiting = nil
        guard case .command = phase, current != nil else {
            if case .success(let (connection, _)) = result { server.coordinator.release(connection, .clean) }
            return
        }
        switch result {
        case .failure(let failure):
            replyAndFinish(PoolErrors.packet(for: failure))
        case .success(let (connection, lease)):
            backend = connection
            if afterWait { current?.servedAt = .now() }   // a clock read only for a command that waited
            if statsKeysStale { resolveStatsKeys() }
            userSeries?.wait?.record(nanoseconds: lease.waited.nanoseconds)
            publishSnapshot()
            // Usually the connection is already in the client's state: no round trip, no future.
            guard let preparing = prepare(connection, needsPing: lease.needsPing) else {
                return use(connection, replayInsertID: replayInsertID)
            }
            preparing.hop(to: context.eventLoop).whenComplete { outcome in
                guard case .command = self.phase, self.backend === connection else { return }
                switch outcome {
                case .success:
                    self.use(connection, replayInsertID: replayInsertID)
                case .failure(BackendError.refused(let err)):
                    // USE of a missing database, a SET the server refused: the client's answer.
                    self.detachBackend(.needsReset)
                    self.replyAndFinish(err)
                case .failure(let error):
                    self.server.log(.warning, "backend \(connection.backend) failed while preparing a hand-over: \(error)")
                    self.backend = nil
                    self.server.coordinator.release(connection, .close)
                    self.withBackend(role: role, replayInsertID: replayInsertID)   // a stale connection: try another one
                }
            }
        }
    }

    /// Brings the connection to the client's session state: ping after a long idle, the
    /// client's schema, and the tracked variables that differ. Nil: nothing to do.
    private func prepare(_ connection: BackendConnection, needsPing: Bool) -> EventLoopFuture<Void>? {
        let wanted = variables
        let setVariables = wanted.statement(toTransform: connection.variables)
        let useDatabase = database.flatMap { connection.schema != $0 ? $0 : nil }
        guard needsPing || useDatabase != nil || setVariables != nil else { return nil }
        var step = connection.eventLoop.makeSucceededVoidFuture()
        let allocator = connection.channel.allocator
        if needsPing {
            step = step.flatMap {
                var payload = allocator.buffer(capacity: 1)
                payload.writeInteger(CommandCode.ping.rawValue)
                return connection.run(payload).flatMapThrowing { try BackendConnection.requireOK($0) }
            }
        }
        if let database = useDatabase {
            step = step.flatMap {
                var payload = allocator.buffer(capacity: database.utf8.count + 1)
                ComInitDB(schema: database).write(into: &payload, capabilities: connection.capabilities)
                return connection.run(payload).flatMapThrowing { result in
                    try BackendConnection.requireOK(result)
                    connection.schema = database
                }
            }
        }
        if let statement = setVariables {
            step = step.flatMap {
                connection.query(statement).flatMapThrowing { result in
                    try BackendConnection.requireOK(result)
                    connection.variables = wanted
                }
            }
        }
        return step
    }

    private func sendCurrent(to connection: BackendConnection) {
        guard var command = current else { return }
        let packets = command.pending
        command.pending = []
        command.sent = true
        current = command
        connection.state?.inFlight.wrappingIncrement(ordering: .relaxed)
        connection.state?.bytesSent.wrappingIncrement(by: UInt64(packets.reduce(0) { $0 + $1.payload.readableBytes + 4 }), ordering: .relaxed)
        let buffering = scriptBuffering
        // Inline when the connection shares this loop (the pool prefers that): no task, no closure.
        if connection.eventLoop.inEventLoop {
            startRelay(packets, on: connection, buffering: buffering)
        } else {
            connection.eventLoop.execute { self.startRelay(packets, on: connection, buffering: buffering) }
        }
    }

    /// On the backend connection's loop: the response will be relayed to this client.
    private func startRelay(_ packets: [MySQLPacket], on connection: BackendConnection, buffering: Bool) {
        relayBuffering = buffering
        relayBuffer = []
        relaySentAt = .now()
        relayFirstAt = nil
        relayBackend = connection.state
        relayHandler = connection.handler
        relayRenumber = nil
        do {
            if try !connection.handler.relay(packets, to: self) {
                Self.onLoop(eventLoop) { self.finishCommand(nil) }
            }
        } catch {
            relayFailed(error, nextSequenceID: nil)
        }
    }

    private func forwardToBackend(_ packets: [MySQLPacket]) {
        guard let connection = backend else { return }
        Self.onLoop(connection.eventLoop) {
            do { try connection.handler.forwardClientPackets(packets) } catch { self.relayFailed(error, nextSequenceID: nil) }
        }
    }

    // MARK: relaying (called on the backend's event loop)

    func relay(_ bytes: ByteBuffer, last: (packet: MySQLPacket, summary: ResponseSummary)?) {
        if relayBuffering { return keepForScript(bytes, summary: last?.summary) }
        relayBackend?.bytesReceived.wrappingIncrement(by: UInt64(bytes.readableBytes), ordering: .relaxed)
        guard let (packet, summary) = last else {
            toClient(bytes, flush: false)
            if !channel.isWritable {
                relayHandler?.pauseReading()   // backpressure: until the client drains
            }
            return
        }
        if let sequenceID = relayRenumber {
            // The funnel sent "no file" for a client that cannot send files, and the server
            // loaded nothing; the client gets what MariaDB tells such a client, in place of the
            // request it never saw.
            relayRenumber = nil
            var payload = channel.allocator.buffer(capacity: 128)
            ERRPacket(errorCode: 4166, sqlState: "HY000",
                      message: "The used command is not allowed because the MariaDB server or client has disabled the local infile capability")
                .write(into: &payload, capabilities: capabilities)
            channel.writeAndFlush(channel.allocator.mysqlFrame(MySQLPacket(sequenceID: sequenceID, payload: payload)), promise: nil)
        } else if capabilities.contains(.sessionTrack) || packet.payload.getInteger(at: packet.payload.readerIndex, as: UInt8.self) != OKPacket.header {
            guard eventLoop.inEventLoop else {
                // A connection of another loop: the last chunk and the command's end in one task
                // (the chunk then goes out through the direct writer, not NIO's queue).
                return eventLoop.execute {
                    self.toClient(bytes, flush: true)
                    self.finishCommand(summary)
                }
            }
            toClient(bytes, flush: true)
        } else {
            // The final OK goes out without the session-state block this client cannot parse.
            var chunk = bytes
            let before = chunk.readSlice(length: chunk.readableBytes - MySQLPacket.headerLength - packet.payload.readableBytes)!
            if before.readableBytes > 0 { channel.write(before, promise: nil) }
            let stripped = Self.withoutSessionTrack(packet, backendCapabilities: BackendConnector.capabilities)
            channel.writeAndFlush(channel.allocator.mysqlFrame(stripped), promise: nil)
        }
        if eventLoop.inEventLoop {
            finishCommand(summary)
        } else {
            eventLoop.execute { self.finishCommand(summary) }
        }
    }

    /// A script's queued query: its response goes to read_query_result, not to the client.
    private func keepForScript(_ bytes: ByteBuffer, summary: ResponseSummary?) {
        let now = NIODeadline.now()
        if relayFirstAt == nil { relayFirstAt = now }
        var rest = bytes
        var decoder = MySQLPacketDecoder()
        while let packet = try? decoder.decode(buffer: &rest) { relayBuffer.append(packet) }
        guard let summary else { return }
        let packets = relayBuffer
        let queryMicros = UInt64(max(((relayFirstAt ?? now) - relaySentAt).nanoseconds / 1000, 0))
        let responseMicros = UInt64(max((now - relaySentAt).nanoseconds / 1000, 0))
        relayBuffer = []
        relayBuffering = false
        Self.onLoop(eventLoop) { self.scriptResult(packets, summary, queryMicros: queryMicros, responseMicros: responseMicros) }
    }

    func relayFlush() {
        if eventLoop.inEventLoop, let context { context.flush() } else { channel.flush() }
    }

    /// A relayed response's bytes: through this handler's context when the backend shares the
    /// client's loop (the usual case; the channel's entry point costs several hundred
    /// instructions more), else through the channel, which hops to the client's loop.
    private func toClient(_ bytes: ByteBuffer, flush: Bool) {
        // No context: the client left and its handler was removed; the closed channel drops it.
        if eventLoop.inEventLoop, let context {
            if flush { writer.writeAndFlush(bytes, from: context) } else { context.write(NIOAny(bytes), promise: nil) }
        } else {
            if flush { channel.writeAndFlush(bytes, promise: nil) } else { channel.write(bytes, promise: nil) }
        }
    }

    func relayNeedsClientData(_ packet: MySQLPacket, frame: ByteBuffer) {
        guard capabilities.contains(.localFiles) else {
            // The client cannot send files: answer "no file" for it (the server then loads
            // nothing); the client gets MariaDB's error in the request's place.
            relayRenumber = packet.sequenceID
            let empty = MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: ByteBuffer())
            if let relayHandler { try? relayHandler.forwardClientPackets([empty]) }
            return
        }
        channel.writeAndFlush(frame, promise: nil)
        eventLoop.execute {
            self.uploadingLocalFile = true
            self.pin(.localInfile)
        }
    }

    func relayFailed(_ error: Error, nextSequenceID: UInt8?) {
        eventLoop.execute { self.backendLost(error, sequenceID: nextSequenceID) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let backend {
            backend.resumeReading()
        }
        context.fireChannelWritabilityChanged()
    }

    /// A client that does not speak CLIENT_SESSION_TRACK must not see the session-state block.
    static func withoutSessionTrack(_ packet: MySQLPacket, backendCapabilities: CapabilityFlags) -> MySQLPacket {
        var payload = packet.payload
        guard payload.getInteger(at: payload.readerIndex, as: UInt8.self) == OKPacket.header,
              var ok = try? OKPacket(from: &payload, capabilities: backendCapabilities) else { return packet }
        ok.sessionStateChanges = []
        ok.statusFlags.remove(.sessionStateChanged)
        var out = ByteBuffer()
        ok.write(into: &out, capabilities: backendCapabilities.subtracting(.sessionTrack))
        return MySQLPacket(sequenceID: packet.sequenceID, payload: out)
    }

    // MARK: after a response

    private func namesChanged() {
        statsKeysStale = true
        snapshotNamesStale = true
    }

    /// Mirrors the session's state into the snapshot the clients table reads.
    private func publishSnapshot() {
        let activity: ClientSnapshot.Activity
        if waiting != nil { activity = .waiting }
        else if current != nil { activity = backend != nil ? .active : .waiting }
        else if lastStatus.contains(.inTransaction) { activity = .inTransaction }
        else { activity = .idle }
        let names = snapshotNamesStale
        snapshotNamesStale = false
        let connection = backend?.id
        let connectionChanged = connection != snapshotConnection
        snapshotConnection = connection
        snapshot.update {
            $0.activity = activity
            if names {
                $0.user = userName
                $0.database = database ?? ""
                $0.pinned = pinnedLabel
            }
            if connectionChanged {
                $0.backend = backend?.backend.name ?? ""
                $0.backendThreadID = backend?.serverThreadID ?? 0
            }
            if current != nil {
                if let first = current?.pending.first {   // not sent yet: the command is new
                    $0.command = first.payload
                    $0.queryStarted = current?.startedAt
                }
            } else {
                $0.command = nil
                $0.queryStarted = nil
            }
        }
    }

    private func finishCommand(_ summary: ResponseSummary?) {
        defer { publishSnapshot() }
        if closeAfterAnswer {
            closeAfterAnswer = false
            context?.close(promise: nil)
        }
        if let connection = backend, current?.sent == true {
            connection.state?.inFlight.wrappingDecrement(ordering: .relaxed)
            if let summary, let startedAt = current?.startedAt {   // not the whole Command: no copy of its buffers
                let now = NIODeadline.now()
                let elapsed = UInt64(max((now - startedAt).nanoseconds, 0))
                // The backend's share: without the wait for a connection, which is the pool's.
                let onBackend = current?.servedAt.map { UInt64(max((now - $0).nanoseconds, 0)) } ?? elapsed
                let failed = summary.isError
                connection.state?.recordQuery(nanoseconds: onBackend, failed: failed)
                if statsKeysStale { resolveStatsKeys() }
                userSeries?.query?.record(nanoseconds: elapsed)
                // Moved out, not copied: the buffer is not needed after this (one retain fewer).
                if let sql = current?.sql.take() {
                    // Through the scope when there is one: two pointers, no reference count touched.
                    sql.withUnsafeReadableBytes { payload in
                        if let digestScope {
                            guard let sql = FunnelMetrics.sql(payload) else { return }
                            digestScope.record(sql, nanoseconds: onBackend, rowsSent: summary.rowCount,
                                               rowsAffected: summary.affectedRows, failed: failed)
                        } else {
                            server.metrics?.recordQuery(payload, user: userName, database: database, nanoseconds: onBackend,
                                                        rowsSent: summary.rowCount, rowsAffected: summary.affectedRows,
                                                        failed: failed)
                        }
                    }
                }
            }
        }
        if let summary, let connection = backend {
            lastStatus = summary.statusFlags
            apply(summary, to: connection)
        }
        current = nil
        releaseIfDone()
        while current == nil, !queued.isEmpty, case .command = phase {
            commandPacket(queued.removeFirst())
        }
    }

    private func resolveStatsKeys() {
        statsKeysStale = false
        guard let metrics = server.metrics else { return }   // `metrics` is fixed at start
        userSeries = metrics.userSeries(user: userName)
        digestScope = metrics.digestScope(user: userName, database: database)
    }

    private func apply(_ summary: ResponseSummary, to connection: BackendConnection) {
        if summary.lastInsertID != 0 {
            lastInsertID = summary.lastInsertID
            connection.lastInsertID = summary.lastInsertID
        }
        var tracked = false
        var stateChanged = false
        for change in summary.sessionStateChanges {
            switch change {
            case .systemVariable(let name, let value):
                if BackendConnector.trackedVariables.contains(name) {
                    variables[name] = value
                    connection.variables[name] = value
                    tracked = true
                } else {
                    pin(.sessionState)
                }
            case .schema(let name):
                database = name
                connection.schema = name
                tracked = true
            case .stateChange(let changed):
                stateChanged = stateChanged || changed
            default:
                break
            }
        }
        if stateChanged && !tracked && poolMode == .transaction { pin(.sessionState) }
        if summary.preparedStatement != nil, poolMode == .transaction { pin(.preparedStatement) }
        if summary.statusFlags.contains(.cursorExists), poolMode == .transaction { pin(.cursor) }
    }

    /// Transaction pooling: the connection goes back after a transaction or an autocommit
    /// statement, decided from the server's status flags, never from the SQL text.
    private func releaseIfDone() {
        guard poolMode == .transaction, pins.isEmpty, !lastStatus.contains(.inTransaction), backend != nil else { return }
        detachBackend(.clean)
    }

    private func detachBackend(_ disposition: ReleaseDisposition) {
        guard let connection = backend else { return }
        backend = nil
        server.coordinator.release(connection, disposition)
    }

    private func backendLost(_ error: Error, sequenceID: UInt8?) {
        guard case .command = phase else { return }
        let hadTransaction = lastStatus.contains(.inTransaction)
        if let connection = backend {
            server.log(.warning, "client \(id): backend \(connection.backend) connection lost: \(error)")
            if current?.sent == true { connection.state?.inFlight.wrappingDecrement(ordering: .relaxed) }
            if let state = connection.state { server.coordinator.backendFailed(state, reason: "connection lost: \(error)") }
        }
        backend = nil   // the pool hears of the loss from the connection itself
        lastStatus = .autocommit
        pins = []
        scriptQueue = []
        scriptBuffering = false
        if hadTransaction { transactionLost = true }
        if let command = current {
            let err = ERRPacket(errorCode: PoolErrors.backendLost, sqlState: "HY000",
                                message: "funnel: lost connection to the backend during the query\(hadTransaction ? "; the transaction was rolled back" : "")")
            send(err, sequenceID: sequenceID ?? command.firstSequenceID &+ 1)
            context.flush()
            current = nil
            uploadingLocalFile = false
            while current == nil, !queued.isEmpty { commandPacket(queued.removeFirst()) }
        }
    }

    // MARK: COM_CHANGE_USER

    private func changeUser(_ packet: MySQLPacket) {
        var payload = packet.payload
        guard let request = try? ComChangeUser(from: &payload, capabilities: capabilities) else {
            replyAndFinish(ERRPacket(errorCode: 1047, sqlState: "08S01", message: "Malformed COM_CHANGE_USER"))
            return
        }
        let loop = context.eventLoop
        server.users.find(request.username, on: loop).hop(to: loop).whenComplete { result in
            guard case .command = self.phase else { return }
            guard case .success(let user?) = result,
                  request.authPluginName == nil || request.authPluginName == NativePassword.pluginName,
                  let stage1 = NativePassword.verify(response: request.authResponse, nonce: self.nonce, storedHash: user.storedHash) else {
                self.userName = request.username
                self.accessDenied(usingPassword: !request.authResponse.isEmpty, sequenceID: packet.sequenceID &+ 1)
                return
            }
            self.detachBackend(self.lastStatus.contains(.inTransaction) ? .close : .needsReset)
            if self.admitted { self.server.coordinator.leave(user: self.userName); self.admitted = false }
            if let refusal = self.server.coordinator.admit(user: user.name) {
                self.fatal(Self.tooManyConnections(refusal, user: user.name), sequenceID: packet.sequenceID &+ 1)
                return
            }
            self.admitted = true
            self.server.credentials[user.name] = .stage1(stage1)
            self.userName = user.name
            self.poolMode = self.server.users.poolMode(for: user.name)
            self.readWriteSplit = self.poolMode == .transaction && self.server.users.readWriteSplit(for: user.name)
            if let charset = request.characterSet { self.handshakeCollation = UInt8(truncatingIfNeeded: charset) }
            self.clearSessionState()
            self.database = request.schema.isEmpty ? user.defaultDatabase : request.schema
            self.replyAndFinish(OKPacket(statusFlags: .autocommit))
        }
    }

    private func clearSessionState() {
        variables = SessionVariables(handshakeCollation: handshakeCollation)
        pins = []
        transactionLost = false
        lastStatus = .autocommit
    }

    /// The client's channel never pauses reading (a session has one command in flight and
    /// queues what is pipelined behind it), so the next read is always wanted.
    func channelReadComplete(context: ChannelHandlerContext) {
        readRearm.rearm()
        context.fireChannelReadComplete()
    }

    // MARK: the end

    func channelInactive(context: ChannelHandlerContext) {
        readRearm.detach()
        if case .parking = phase {
            // The client lives on in the parking lot; let go of the channel.
            self.context = nil
            channel = nil
            context.fireChannelInactive()
            return
        }
        let wasCommand: Bool
        if case .command = phase { wasCommand = true } else { wasCommand = false }
        phase = .closed
        if let waiting { server.coordinator.cancel(waiting) }
        waiting = nil
        if let connection = backend {
            // Its answer will never be relayed: settle the count the balancer reads now.
            if current?.sent == true { connection.state?.inFlight.wrappingDecrement(ordering: .relaxed) }
            // Mid-response or mid-transaction the connection's state is unknown: close it, and the
            // server rolls back. Pinned or session-pooled ones are reset; the rest are clean.
            let disposition: ReleaseDisposition
            if current != nil || lastStatus.contains(.inTransaction) || uploadingLocalFile {
                disposition = .close
            } else if !pins.isEmpty || poolMode == .session {
                disposition = .needsReset
            } else {
                disposition = .clean
            }
            detachBackend(disposition)
        }
        server.clients.remove(self)
        server.clientLeft(id: id, user: userName, admitted: admitted, script: script, announce: wasCommand)
        admitted = false
        script = nil
        context.fireChannelInactive()
    }

    /// The context holds this handler: kept past removal, it would keep the closed channel, its
    /// buffers and this session alive for good (a reference cycle, about 3.5 KiB per client
    /// that ever connected). What may still run after this (a response relayed from a backend
    /// connection) checks for the context.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if case .command = phase {
            server.log(.info, "client \(id): closing after \(error)")
        }
        context.close(promise: nil)
    }

    // MARK: writing

    private func replyAndFinish<M: MySQLMessage>(_ message: M) {
        let sequenceID = (current?.firstSequenceID ?? 0) &+ 1
        send(message, sequenceID: sequenceID)
        context.flush()
        finishCommand(nil)
    }

    private func send<M: MySQLMessage>(_ message: M, sequenceID: UInt8) {
        var payload = context.channel.allocator.buffer(capacity: 64)
        message.write(into: &payload, capabilities: capabilities.isEmpty ? Self.offeredCapabilities : capabilities)
        context.writeMySQLPacket(MySQLPacket(sequenceID: sequenceID, payload: payload))
    }

    /// A script's answer to a command: its packets, numbered after the command's.
    private func writeAnswer(_ payloads: [ByteBuffer], after sequenceID: UInt8) {
        var sequenceID = sequenceID
        for payload in payloads {
            sequenceID &+= 1
            context.writeMySQLPacket(MySQLPacket(sequenceID: sequenceID, payload: payload))
        }
    }

    /// An error after which the connection cannot go on (handshake failures, as MariaDB does).
    private func fatal(_ err: ERRPacket, sequenceID: UInt8) {
        send(err, sequenceID: sequenceID)
        context.flush()
        phase = .closed
        context.close(promise: nil)
    }

    /// KILL, or the funnel is stopping: close the client (its backend connection goes back as
    /// usual). One that was parked meanwhile is closed in the parking lot.
    func closeFromServer() {
        guard let loop = eventLoop else { return }
        loop.execute {
            if case .parking = self.phase {
                _ = self.server.kill(client: self.id)
            } else {
                self.context?.close(promise: nil)
            }
        }
    }

    /// Runs `body` at once when already on `loop` (client and backend share a loop: no task,
    /// no wake-up), else as a task there.
    private static func onLoop(_ loop: EventLoop, _ body: @escaping () -> Void) {
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }

    // MARK: parking (on the client's loop)

    /// The idle sweep, every `FunnelRuntime.sweepInterval`: a client that started no command
    /// and stayed parkable for `sweeps` sweeps in a row is parked. Counting commands costs the
    /// statement path one increment, not a clock read.
    func sweep(parkAfter sweeps: Int) {
        guard commandsAtSweep == commandsStarted, isParkable else {
            commandsAtSweep = commandsStarted
            idleSweeps = 0
            return
        }
        idleSweeps += 1
        if idleSweeps >= sweeps { park() }
    }

    /// Nothing of the client's is anywhere but in what a `ParkedClient` keeps: no command, no
    /// backend connection, no transaction or pinned state, no bytes half-read or unsent.
    private var isParkable: Bool {
        guard case .command = phase, let context, current == nil, backend == nil, waiting == nil, queued.isEmpty,
              remainder.isEmpty, pins.isEmpty, !lastStatus.contains(.inTransaction), !transactionLost,
              !uploadingLocalFile, scriptQueue.isEmpty, scriptBackend == nil, !closeAfterAnswer, affinity != nil else {
            return false
        }
        let unsent = (try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 1
        return unsent == 0
    }

    private func park() {
        guard let context, let affinity,
              let socket = try? context.pipeline.syncOperations.withUnsafeTransportIfAvailable(
                  of: NIOBSDSocket.Handle.self, { dup($0) }),
              socket >= 0 else { return }
        let parked = ParkedClient(id: id, socket: socket, loopIndex: affinity, user: userName, database: database,
                                  address: remoteAddress, capabilities: capabilities,
                                  handshakeCollation: handshakeCollation, poolMode: poolMode,
                                  readWriteSplit: readWriteSplit, variables: variables, lastStatus: lastStatus,
                                  lastInsertID: lastInsertID, lastWrite: lastWrite, nonce: ParkedClient.Nonce(nonce),
                                  script: script, scriptIsServer: scriptIsServer)
        phase = .parking
        server.clients.remove(self)
        // NIO closes its descriptor now (deregistered first); the duplicate keeps the connection.
        context.close(promise: nil)
        server.parked(parked)
    }

    /// A woken client whose channel could not be set up: it leaves without ever having been back.
    func abandon() {
        guard resumed, context == nil, case .command = phase else { return }
        phase = .closed
        server.clientLeft(id: id, user: userName, admitted: admitted, script: script, announce: true)
        admitted = false
        script = nil
    }

    // MARK: inspection (any thread, approximate)

    var isPinned: Bool { !pins.isEmpty }
    var hasBackend: Bool { backend != nil }
}
