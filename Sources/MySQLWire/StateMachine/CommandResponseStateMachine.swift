import NIOCore

/// Follows one command's response packet by packet, so a proxy can forward the backend's physical
/// packets unchanged and still know where the response ends, the final server status (and so
/// whether the session is in a transaction) and the session-state changes.
///
/// It reads only the first byte (and length) of most packets; rows are counted, not decoded.
/// Continuation packets (after a packet of exactly 0xFFFFFF bytes) are forwarded uninterpreted.
/// Anything the protocol does not allow throws a `MySQLWireError`: close that backend connection.
///
/// Not understood: MySQL 8's CLIENT_OPTIONAL_RESULTSET_METADATA and compression. Keep them out of
/// the capabilities negotiated with the backend.
public struct CommandResponseStateMachine: Sendable {
    /// What follows a command.
    public enum ResponseExpectation: Hashable, Sendable {
        /// Feed the backend's packets to `backendPacket` until it returns `.forwardAndComplete`.
        case response
        /// The server sends nothing (COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA); the machine stays idle.
        case noResponse
        /// COM_CHANGE_USER: an authentication exchange follows. Feed the backend's packets to
        /// `backendPacket` and, after `.needClientData`, the client's next packet to `clientPacket`.
        case authentication
    }

    /// What to do with a backend packet.
    public enum Action: Hashable, Sendable {
        /// Forward it; more packets of this response follow.
        case forward
        /// Forward it; it ends the response.
        case forwardAndComplete(ResponseSummary)
        /// Forward it; the client sends next (LOCAL INFILE contents, or an authentication answer).
        /// Pass the client's packets to `clientPacket`.
        case needClientData
    }

    /// What to do with a client packet sent during a response (after `.needClientData`).
    public enum ClientAction: Hashable, Sendable {
        /// Forward it; more client packets follow.
        case forward
        /// Forward it; it was the client's last, the backend's packets follow.
        case forwardAndAwaitResponse
    }

    private enum ResultProtocol: Hashable, Sendable {
        case text, binary
    }

    private enum State: Hashable, Sendable {
        case idle
        /// The first packet of a (next) result: OK, ERR, LOCAL INFILE request or column count.
        case resultStart(ResultProtocol)
        case columnDefinitions(remaining: Int, ResultProtocol)
        case metadataEOF(ResultProtocol)
        case rows(ResultProtocol)
        case localInfileData
        /// OK, ERR or EOF (COM_PING, COM_INIT_DB, COM_SET_OPTION, ...).
        case simple
        /// One raw string packet.
        case statistics
        /// Column definitions ended by EOF.
        case fieldList
        case prepareOK
        case prepareDefinitions(remaining: Int, columnsAfter: Int)
        case prepareEOF(columnsAfter: Int)
        case authenticationServer
        case authenticationClient
        /// Replication events until EOF or ERR.
        case binlogEvents
    }

    /// The negotiated capabilities; CLIENT_DEPRECATE_EOF, CLIENT_SESSION_TRACK,
    /// MARIADB_CLIENT_CACHE_METADATA and MARIADB_CLIENT_PROGRESS change the responses' shape.
    public let capabilities: CapabilityFlags
    /// The status of the last OK/EOF seen.
    public private(set) var statusFlags: ServerStatusFlags

    private var state = State.idle
    private var summary = ResponseSummary()
    /// Nil at the start of a response: its first sequence id depends on how the command was split.
    private var expectedSequenceID: UInt8?
    private var backendPacketContinues = false
    private var clientPacketContinues = false
    /// Where a logical packet that ends the response is split, the action waits for its last part.
    private var deferredAction: Action?

    /// - Parameter statusFlags: the status from the handshake or the connection's last response.
    public init(capabilities: CapabilityFlags, statusFlags: ServerStatusFlags = .autocommit) {
        self.capabilities = capabilities
        self.statusFlags = statusFlags
    }

    public var inTransaction: Bool { statusFlags.contains(.inTransaction) }

    /// True when no response is in flight, so a new command may be sent.
    public var isIdle: Bool { state == .idle && !backendPacketContinues }

    private var deprecatesEOF: Bool { capabilities.contains(.deprecateEOF) }

    /// Call when the client's command goes to the backend.
    ///
    /// - Parameter payload: the command's logical payload, or just its first physical packet
    ///   (only the command byte is read).
    public mutating func commandSent(_ payload: ByteBuffer) throws -> ResponseExpectation {
        guard isIdle else { throw MySQLWireError.commandWhileResponsePending }
        guard let byte = payload.getInteger(at: payload.readerIndex, as: UInt8.self) else {
            throw MySQLWireError.malformedPacket("empty command packet")
        }
        summary = ResponseSummary(statusFlags: statusFlags)
        expectedSequenceID = nil
        deferredAction = nil
        switch CommandCode(rawValue: byte) {
        case .quit, .stmtClose, .stmtSendLongData:
            return .noResponse
        case .changeUser:
            state = .authenticationServer
            return .authentication
        case .query, .processInfo:
            state = .resultStart(.text)
        case .stmtExecute, .stmtBulkExecute:
            state = .resultStart(.binary)
        case .stmtFetch:
            state = .rows(.binary)
        case .stmtPrepare:
            state = .prepareOK
        case .fieldList:
            state = .fieldList
        case .statistics:
            state = .statistics
        case .binlogDump, .binlogDumpGTID:
            state = .binlogEvents
        default:
            state = .simple
        }
        return .response
    }

    /// Call for every physical packet the backend sends while a response is in flight.
    public mutating func backendPacket(_ packet: MySQLPacket) throws -> Action {
        if backendPacketContinues {
            try checkSequence(packet)
            backendPacketContinues = packet.isContinued
            guard !packet.isContinued, let action = deferredAction else { return .forward }
            deferredAction = nil
            return action
        }
        switch state {
        case .idle, .localInfileData, .authenticationClient:
            throw MySQLWireError.unexpectedPacket("backend packet while \(state)")
        default:
            try checkSequence(packet)
        }
        let action = try interpret(packet.payload)
        backendPacketContinues = packet.isContinued
        // Tested with `case`, not `!=`: comparing actions copies the summary, on every packet.
        guard packet.isContinued else { return action }
        if case .forward = action { return action }
        deferredAction = action
        return .forward
    }

    /// `backendPacket` for the bulk of a result set, straight from the wire: its column count,
    /// column definitions, the EOF after them and its rows, which need no more than a few bytes
    /// each. Walks the whole packets at the start of `wire` (headers included) while each is such
    /// a packet, treats them as forwarded, and returns how many bytes they take and the last
    /// one's sequence id. It stops, leaving the machine as the packets before left it, at
    /// anything else (the terminator, an OK or error, a split packet, a wrong sequence id): give
    /// that one to `backendPacket`, which decides on it as usual.
    ///
    /// A relay walks a row in a few dozen instructions this way; cut into a packet and
    /// interpreted, it took about 480.
    public mutating func forwardResultBulk(_ wire: UnsafeRawBufferPointer,
                                           maximumLength: Int) -> (count: Int, lastSequenceID: UInt8)? {
        guard !backendPacketContinues else { return nil }
        // Nil before a response's first packet: any id starts it (see `checkSequence`).
        var expected = expectedSequenceID
        let terminatorLimit = deprecatesEOF ? MySQLPacket.maximumPayloadLength : EOFPacket.maximumPayloadLength
        let lengthLimit = min(maximumLength, MySQLPacket.maximumPayloadLength - 1)   // whole, allowed packets
        var offset = 0
        /// The payload length of the packet at `offset` if it is whole, allowed and in sequence.
        func nextPacket() -> Int? {
            guard wire.count - offset >= MySQLPacket.headerLength else { return nil }
            let length = Int(wire[offset]) | Int(wire[offset + 1]) << 8 | Int(wire[offset + 2]) << 16
            guard length <= lengthLimit, expected == nil || wire[offset + 3] == expected,
                  wire.count - offset - MySQLPacket.headerLength >= length else { return nil }
            return length
        }
        func advance(_ length: Int) {
            expected = wire[offset + 3] &+ 1
            offset += MySQLPacket.headerLength + length
        }
        walk: while let length = nextPacket() {
            let payload = offset + MySQLPacket.headerLength
            switch state {
            case .resultStart(let resultProtocol):
                // A one-byte column count (OK, ERR and LOCAL INFILE begin 0x00, 0xFF and 0xFB);
                // with metadata caching a flag follows it, left to `columnCount`.
                guard length == 1, (1...0xFA).contains(wire[payload]), !capabilities.contains(.mariaDBCacheMetadata) else {
                    break walk
                }
                summary.resultSetCount += 1
                state = .columnDefinitions(remaining: Int(wire[payload]), resultProtocol)
            case .columnDefinitions(let remaining, let resultProtocol):
                if remaining > 1 {
                    state = .columnDefinitions(remaining: remaining - 1, resultProtocol)
                } else {
                    endColumnDefinitions(resultProtocol)
                }
            case .metadataEOF(let resultProtocol):
                // The EOF after the definitions: its status, unless it announces a cursor.
                guard capabilities.contains(.protocol41), (5..<EOFPacket.maximumPayloadLength).contains(length),
                      wire[payload] == EOFPacket.header else { break walk }
                let status = ServerStatusFlags(rawValue: UInt16(wire[payload + 3]) | UInt16(wire[payload + 4]) << 8)
                if resultProtocol == .binary, status.contains(.cursorExists) { break walk }
                statusFlags = status
                summary.warnings = UInt16(wire[payload + 1]) | UInt16(wire[payload + 2]) << 8
                state = .rows(resultProtocol)
            case .rows(let resultProtocol):
                // Rows come in runs: count them in a local, and store once.
                var rows: UInt64 = 0
                var length = length
                while true {
                    let first = length > 0 ? wire[offset + MySQLPacket.headerLength] : nil
                    if first == ERRPacket.header || (first == EOFPacket.header && length < terminatorLimit) { break }
                    if resultProtocol == .binary, first != BinaryRow.header { break }
                    rows += 1
                    advance(length)
                    guard let next = nextPacket() else { break }
                    length = next
                }
                summary.rowCount += rows
                break walk
            default:
                break walk
            }
            advance(length)
        }
        expectedSequenceID = expected
        guard offset > 0, let expected else { return nil }
        return (offset, expected &- 1)
    }

    /// Call for every physical packet the client sends after `.needClientData`.
    public mutating func clientPacket(_ packet: MySQLPacket) throws -> ClientAction {
        guard state == .localInfileData || state == .authenticationClient else {
            throw MySQLWireError.unexpectedPacket("client packet while \(state)")
        }
        try checkSequence(packet)
        let isContinuation = clientPacketContinues
        clientPacketContinues = packet.isContinued
        if packet.isContinued { return .forward }
        if state == .authenticationClient {
            state = .authenticationServer
            return .forwardAndAwaitResponse
        }
        // The file ends with an empty packet that does not itself end a split chain.
        guard !isContinuation, packet.payload.readableBytes == 0 else { return .forward }
        state = .resultStart(.text)
        return .forwardAndAwaitResponse
    }

    private mutating func checkSequence(_ packet: MySQLPacket) throws {
        if let expected = expectedSequenceID, expected != packet.sequenceID {
            throw MySQLWireError.wrongSequenceID(expected: expected, received: packet.sequenceID)
        }
        expectedSequenceID = packet.sequenceID &+ 1
    }

    // MARK: - Interpreting the first physical packet of each logical packet

    private mutating func interpret(_ payload: ByteBuffer) throws -> Action {
        let first = payload.getInteger(at: payload.readerIndex, as: UInt8.self)
        switch state {
        case .resultStart(let resultProtocol):
            switch first {
            case OKPacket.header: return try okPacket(payload)
            case ERRPacket.header: return try errPacket(payload)
            case LocalInfileRequest.header where resultProtocol == .text:
                state = .localInfileData
                clientPacketContinues = false
                return .needClientData
            default: return try columnCount(payload, resultProtocol)
            }

        case .columnDefinitions(let remaining, let resultProtocol):
            if remaining > 1 {
                state = .columnDefinitions(remaining: remaining - 1, resultProtocol)
            } else {
                endColumnDefinitions(resultProtocol)
            }
            return .forward

        case .metadataEOF(let resultProtocol):
            guard isTerminator(payload) else { throw unexpected(first, "instead of EOF after column definitions") }
            let status = try terminator(payload)
            // A cursor was opened: the rows come later with COM_STMT_FETCH.
            if resultProtocol == .binary, status.contains(.cursorExists) { return complete() }
            state = .rows(resultProtocol)
            return .forward

        case .rows(let resultProtocol):
            if first == ERRPacket.header { return try errPacket(payload) }
            if isTerminator(payload) {
                let status = try terminator(payload)
                guard status.contains(.moreResultsExist) else { return complete() }
                state = .resultStart(resultProtocol)
                return .forward
            }
            guard resultProtocol == .text || first == BinaryRow.header else { throw unexpected(first, "instead of a binary row") }
            summary.rowCount += 1
            return .forward

        case .simple:
            switch first {
            case OKPacket.header: return try okPacket(payload)
            case ERRPacket.header: return try errPacket(payload)
            default:
                guard isTerminator(payload) else { throw unexpected(first, "instead of OK/ERR/EOF") }
                _ = try terminator(payload)
                return complete()
            }

        case .statistics:
            return first == ERRPacket.header ? try errPacket(payload) : complete()

        case .fieldList:
            if first == ERRPacket.header { return try errPacket(payload) }
            guard isTerminator(payload) else { return .forward }
            _ = try terminator(payload)
            return complete()

        case .prepareOK:
            if first == ERRPacket.header { return try errPacket(payload) }
            let prepared = try ComStmtPrepareOK(payload: payload, capabilities: capabilities)
            summary.preparedStatement = prepared
            summary.warnings = prepared.warnings
            return beginPrepareDefinitions(Int(prepared.parameterCount), columnsAfter: Int(prepared.columnCount))

        case .prepareDefinitions(let remaining, let columnsAfter):
            if remaining > 1 {
                state = .prepareDefinitions(remaining: remaining - 1, columnsAfter: columnsAfter)
                return .forward
            }
            if deprecatesEOF { return beginPrepareDefinitions(columnsAfter, columnsAfter: 0) }
            state = .prepareEOF(columnsAfter: columnsAfter)
            return .forward

        case .prepareEOF(let columnsAfter):
            guard isTerminator(payload) else { throw unexpected(first, "instead of EOF after prepared statement definitions") }
            _ = try terminator(payload)
            return beginPrepareDefinitions(columnsAfter, columnsAfter: 0)

        case .authenticationServer:
            switch first {
            case OKPacket.header: return try okPacket(payload)
            case ERRPacket.header: return try errPacket(payload)
            case AuthSwitchRequest.header:
                state = .authenticationClient
                clientPacketContinues = false
                return .needClientData
            case AuthMoreData.header:
                // After caching_sha2_password's fast-auth success the server goes on with OK.
                if payload.readableBytes == 2,
                   payload.getInteger(at: payload.readerIndex + 1, as: UInt8.self) == CachingSHA2Password.fastAuthSuccess {
                    return .forward
                }
                state = .authenticationClient
                clientPacketContinues = false
                return .needClientData
            default:
                throw unexpected(first, "during authentication")
            }

        case .binlogEvents:
            if first == ERRPacket.header { return try errPacket(payload) }
            guard isTerminator(payload) else { return .forward }
            _ = try terminator(payload)
            return complete()

        case .idle, .localInfileData, .authenticationClient:
            throw unexpected(first, "while \(state)")
        }
    }

    private mutating func columnCount(_ payload: ByteBuffer, _ resultProtocol: ResultProtocol) throws -> Action {
        var payload = payload
        guard let count = payload.readLengthEncodedInteger(), (1...UInt64(UInt16.max)).contains(count) else {
            throw MySQLWireError.malformedPacket("invalid column count")
        }
        summary.resultSetCount += 1
        // MariaDB may skip metadata the client has cached; an EOF still follows without DEPRECATE_EOF.
        if capabilities.contains(.mariaDBCacheMetadata) {
            guard let metadataFollows = payload.readInteger(as: UInt8.self) else {
                throw MySQLWireError.malformedPacket("missing metadata-follows flag")
            }
            if metadataFollows == 0 {
                endColumnDefinitions(resultProtocol)
                return .forward
            }
        }
        state = .columnDefinitions(remaining: Int(count), resultProtocol)
        return .forward
    }

    private mutating func endColumnDefinitions(_ resultProtocol: ResultProtocol) {
        state = deprecatesEOF ? .rows(resultProtocol) : .metadataEOF(resultProtocol)
    }

    private mutating func beginPrepareDefinitions(_ count: Int, columnsAfter: Int) -> Action {
        if count > 0 {
            state = .prepareDefinitions(remaining: count, columnsAfter: columnsAfter)
            return .forward
        }
        if columnsAfter > 0 {
            state = .prepareDefinitions(remaining: columnsAfter, columnsAfter: 0)
            return .forward
        }
        return complete()
    }

    /// An EOF, or under DEPRECATE_EOF the 0xFE-headed OK that replaces it. A text row may start
    /// with 0xFE too, but then it is at least 9 bytes long (16 MiB with DEPRECATE_EOF).
    private func isTerminator(_ payload: ByteBuffer) -> Bool {
        guard payload.getInteger(at: payload.readerIndex, as: UInt8.self) == EOFPacket.header else { return false }
        let limit = deprecatesEOF ? MySQLPacket.maximumPayloadLength : EOFPacket.maximumPayloadLength
        return payload.readableBytes < limit
    }

    /// Records a terminator's status and returns it.
    private mutating func terminator(_ payload: ByteBuffer) throws -> ServerStatusFlags {
        if deprecatesEOF {
            record(try OKPacket(payload: payload, capabilities: capabilities))
        } else {
            let eof = try EOFPacket(payload: payload, capabilities: capabilities)
            statusFlags = eof.statusFlags
            summary.warnings = eof.warnings
        }
        return statusFlags
    }

    private mutating func record(_ ok: OKPacket) {
        statusFlags = ok.statusFlags
        summary.affectedRows &+= ok.affectedRows
        summary.lastInsertID = ok.lastInsertID
        summary.warnings = ok.warnings
        summary.info = ok.info
        summary.sessionStateChanges += ok.sessionStateChanges
    }

    private mutating func okPacket(_ payload: ByteBuffer) throws -> Action {
        let ok = try OKPacket(payload: payload, capabilities: capabilities)
        record(ok)
        if case .resultStart = state, ok.statusFlags.contains(.moreResultsExist) { return .forward }
        return complete()
    }

    private mutating func errPacket(_ payload: ByteBuffer) throws -> Action {
        let error = try ERRPacket(payload: payload, capabilities: capabilities)
        if error.errorCode == ERRPacket.progressReportCode, capabilities.contains(.mariaDBProgress) {
            return .forward
        }
        summary.error = error
        // No result follows an error, whatever the last terminator announced.
        statusFlags.remove(.moreResultsExist)
        return complete()
    }

    private mutating func complete() -> Action {
        summary.statusFlags = statusFlags
        state = .idle
        return .forwardAndComplete(summary)
    }

    private func unexpected(_ first: UInt8?, _ context: String) -> MySQLWireError {
        let header = first.map { "0x" + String($0, radix: 16) } ?? "an empty packet"
        return .unexpectedPacket("\(header) \(context)")
    }
}
