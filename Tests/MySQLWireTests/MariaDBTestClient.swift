import Foundation
import MySQLWire
import NIOCore
import NIOPosix

/// A minimal MySQL client for the end-to-end tests. Every response is delimited by the public
/// `CommandResponseStateMachine`, so these tests also check the machine against a real server.
final class MariaDBTestClient {
    struct Configuration {
        var host: String
        var port: Int
        var user: String
        var password: String
        var database: String?

        /// From MYSQL_TEST_HOST/PORT/USER/PASSWORD; defaults to root without password on 127.0.0.1:3306.
        static func fromEnvironment() -> Configuration {
            let environment = ProcessInfo.processInfo.environment
            return Configuration(
                host: environment["MYSQL_TEST_HOST"] ?? "127.0.0.1",
                port: environment["MYSQL_TEST_PORT"].flatMap(Int.init) ?? 3306,
                user: environment["MYSQL_TEST_USER"] ?? "root",
                password: environment["MYSQL_TEST_PASSWORD"] ?? "",
                database: nil
            )
        }
    }

    struct TextResult {
        var columns: [ColumnDefinition41]
        var rows: [TextRow]
        var summary: ResponseSummary

        /// The rows as strings (nil for NULL).
        var strings: [[String?]] { rows.map { $0.values.map { $0.map { String(buffer: $0) } } } }
    }

    struct PreparedStatement {
        var ok: ComStmtPrepareOK
        var columns: [ColumnDefinition41]
    }

    let greeting: HandshakeV10
    let capabilities: CapabilityFlags
    private(set) var machine: CommandResponseStateMachine
    private var inbound: NIOAsyncChannelInboundStream<MySQLPacket>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<MySQLPacket>

    /// Connects, logs in, runs `body` and closes the connection.
    static func withConnection<Result>(
        _ configuration: Configuration,
        deprecateEOF: Bool = true,
        _ body: (MariaDBTestClient) async throws -> Result
    ) async throws -> Result {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MySQLPacketDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MySQLPacketEncoder()))
                    return try NIOAsyncChannel<MySQLPacket, MySQLPacket>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            guard let first = try await iterator.next() else { throw MySQLWireError.unexpectedPacket("closed before greeting") }
            let greeting = try HandshakeV10(payload: first.payload, capabilities: [])
            var wanted: CapabilityFlags = [
                .longPassword, .protocol41, .secureConnection, .transactions, .multiStatements, .multiResults,
                .psMultiResults, .pluginAuth, .connectAttrs, .pluginAuthLenencClientData, .sessionTrack, .localFiles,
            ]
            if deprecateEOF { wanted.insert(.deprecateEOF) }
            if configuration.database != nil { wanted.insert(.connectWithDB) }
            let client = MariaDBTestClient(
                greeting: greeting, capabilities: wanted.intersection(greeting.capabilities), inbound: iterator, outbound: outbound
            )
            try await client.logIn(configuration)
            return try await body(client)
        }
    }

    private init(
        greeting: HandshakeV10, capabilities: CapabilityFlags,
        inbound: NIOAsyncChannelInboundStream<MySQLPacket>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<MySQLPacket>
    ) {
        self.greeting = greeting
        self.capabilities = capabilities
        self.machine = CommandResponseStateMachine(capabilities: capabilities, statusFlags: greeting.statusFlags)
        self.inbound = inbound
        self.outbound = outbound
    }

    private func logIn(_ configuration: Configuration) async throws {
        let plugin = try AuthenticationPlugin(name: greeting.authPluginName ?? NativePassword.pluginName)
        let response = HandshakeResponse41(
            capabilities: capabilities, username: configuration.user,
            authResponse: plugin.authResponse(password: configuration.password, nonce: greeting.authPluginData),
            database: configuration.database, authPluginName: plugin.rawValue,
            attributes: [ConnectAttribute(key: "_client_name", value: "MySQLWireTests")]
        )
        var sequenceID = try await send(response.payload(capabilities: capabilities), firstSequenceID: 1)
        while true {
            let packet = try await nextPacket()
            sequenceID = packet.sequenceID &+ 1
            switch packet.payload.getInteger(at: packet.payload.readerIndex, as: UInt8.self) {
            case OKPacket.header:
                return
            case ERRPacket.header:
                throw try ERRPacket(payload: packet.payload, capabilities: capabilities)
            case AuthSwitchRequest.header:
                let request = try AuthSwitchRequest(payload: packet.payload, capabilities: capabilities)
                let switched = try AuthenticationPlugin(name: request.pluginName)
                let answer = ByteBuffer(bytes: switched.authResponse(password: configuration.password, nonce: request.pluginData))
                sequenceID = try await send(answer, firstSequenceID: sequenceID)
            default:
                throw MySQLWireError.unexpectedPacket("during login")
            }
        }
    }

    @discardableResult
    private func send(_ payload: ByteBuffer, firstSequenceID: UInt8) async throws -> UInt8 {
        let packets = MySQLPacket.split(payload: payload, firstSequenceID: firstSequenceID)
        try await outbound.write(contentsOf: packets)
        return packets.last!.sequenceID &+ 1
    }

    private func nextPacket() async throws -> MySQLPacket {
        guard let packet = try await inbound.next() else { throw MySQLWireError.unexpectedPacket("connection closed") }
        return packet
    }

    /// Sends a command and returns its response's logical payloads, delimited by the state machine.
    func command(_ payload: ByteBuffer) async throws -> (payloads: [ByteBuffer], summary: ResponseSummary) {
        guard try machine.commandSent(payload) == .response else {
            try await send(payload, firstSequenceID: 0)
            return ([], ResponseSummary(statusFlags: machine.statusFlags))
        }
        try await send(payload, firstSequenceID: 0)
        var assembler = MySQLPacketAssembler()
        var payloads: [ByteBuffer] = []
        while true {
            let packet = try await nextPacket()
            let action = try machine.backendPacket(packet)
            if let logical = try assembler.append(packet) { payloads.append(logical) }
            switch action {
            case .forward: continue
            case .needClientData: throw MySQLWireError.unexpectedPacket("the test client sends no client data")
            case .forwardAndComplete(let summary): return (payloads, summary)
            }
        }
    }

    /// Runs a query returning at most one result set, decoded as text.
    func query(_ sql: String) async throws -> TextResult {
        var (payloads, summary) = try await command(ComQuery(sql: sql).payload(capabilities: capabilities))
        if let error = summary.error { throw error }
        guard summary.resultSetCount == 1 else { return TextResult(columns: [], rows: [], summary: summary) }
        let columns = try readColumns(&payloads)
        let rows = try payloads.dropLast().map { payload -> TextRow in
            var payload = payload
            return try TextRow(from: &payload, columnCount: columns.count)
        }
        return TextResult(columns: columns, rows: rows, summary: summary)
    }

    func prepare(_ sql: String) async throws -> PreparedStatement {
        var (payloads, summary) = try await command(ComStmtPrepare(sql: sql).payload(capabilities: capabilities))
        if let error = summary.error { throw error }
        let ok = try ComStmtPrepareOK(payload: payloads.removeFirst(), capabilities: capabilities)
        let blockLength = { (count: UInt16) in count == 0 ? 0 : Int(count) + (self.capabilities.contains(.deprecateEOF) ? 0 : 1) }
        payloads.removeFirst(blockLength(ok.parameterCount))
        let columns = try payloads.prefix(Int(ok.columnCount)).map { try ColumnDefinition41(payload: $0, capabilities: capabilities) }
        guard payloads.count == blockLength(ok.columnCount) else { throw MySQLWireError.malformedPacket("prepare response") }
        return PreparedStatement(ok: ok, columns: columns)
    }

    /// Executes a prepared statement and decodes its binary rows.
    func execute(_ statement: PreparedStatement, _ parameters: [MySQLBinaryValue]) async throws -> (rows: [BinaryRow], summary: ResponseSummary) {
        var payload = ByteBuffer()
        ComStmtExecute(statementID: statement.ok.statementID, parameters: parameters).write(into: &payload)
        var (payloads, summary) = try await command(payload)
        if let error = summary.error { throw error }
        guard summary.resultSetCount == 1 else { return ([], summary) }
        let columns = try readColumns(&payloads)
        let rows = try payloads.dropLast().map { payload -> BinaryRow in
            var payload = payload
            return try BinaryRow(from: &payload, columns: columns)
        }
        return (rows, summary)
    }

    /// Consumes the column count, the definitions and (without DEPRECATE_EOF) their EOF.
    private func readColumns(_ payloads: inout [ByteBuffer]) throws -> [ColumnDefinition41] {
        var countPacket = payloads.removeFirst()
        guard let count = countPacket.readLengthEncodedInteger() else { throw MySQLWireError.malformedPacket("column count") }
        let columns = try payloads.prefix(Int(count)).map { try ColumnDefinition41(payload: $0, capabilities: capabilities) }
        payloads.removeFirst(Int(count) + (capabilities.contains(.deprecateEOF) ? 0 : 1))
        return columns
    }
}
