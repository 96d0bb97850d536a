import MySQLWire
import NIOCore

/// Receives a relayed response: the funnel's client side implements it.
/// Calls arrive on the backend's event loop; the implementation hops to its own.
protocol RelaySink: AnyObject {
    /// Bytes of the response as the backend sent them (whole physical packets), to forward
    /// unchanged. `last` comes with the chunk that ends the response: its final packet (the
    /// chunk's tail) and what the response said.
    func relay(_ bytes: ByteBuffer, last: (packet: MySQLPacket, summary: ResponseSummary)?)
    /// The end of a batch of reads: flush what was relayed.
    func relayFlush()
    /// The backend waits for client data (LOCAL INFILE contents); `frame` is its request on
    /// the wire, not forwarded yet.
    func relayNeedsClientData(_ packet: MySQLPacket, frame: ByteBuffer)
    /// The connection broke or sent something that cannot be trusted; it is being closed.
    /// `nextSequenceID`: what an error in the response's place must carry (nil: nothing relayed).
    func relayFailed(_ error: Error, nextSequenceID: UInt8?)
}

/// The backend connection's pipeline, alone: it frames the bytes itself, logs in, then either
/// runs the funnel's own commands (reset, USE, SET, ping, lookups) or relays a client's command.
/// It follows every response with CommandResponseStateMachine, so it knows exactly where the
/// response ends, and relays it as the read buffer's own bytes: one slice per read, never a
/// copy or a write per packet.
final class BackendHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Login {
        var user: String
        var credential: BackendCredential
        var database: String?
        var capabilities: CapabilityFlags
    }

    struct InternalResult {
        var summary: ResponseSummary
        /// The response's packets, when the caller asked for them (a query's rows).
        var packets: [MySQLPacket]
    }

    private enum State {
        // Boxed: the login states are big and short-lived, and every relayed packet copies the
        // state when it checks for `.relaying`; a small enum copies in a few instructions.
        indirect case greeting(Login, EventLoopPromise<Greeting>)
        indirect case authenticating(Login, EventLoopPromise<Greeting>, Greeting)
        case idle
        case internalCommand(EventLoopPromise<InternalResult>, collect: Bool, packets: [MySQLPacket])
        case relaying(RelaySink)
        case closed
    }

    struct Greeting {
        var handshake: HandshakeV10
        var capabilities: CapabilityFlags
    }

    private var state: State
    /// The client's packets framed for the server (see `relay`).
    private var outbound = ByteBuffer()
    private static let outboundKept = 16 * 1024
    private(set) var machine: CommandResponseStateMachine
    private var context: ChannelHandlerContext?
    /// Goes into the pipeline right before this handler (BackendConnector).
    let writer = DirectSocketWriter()
    private var decoder: MySQLPacketDecoder
    /// The start of a packet that has not fully arrived (the read buffer it came in is shared
    /// with the relayed slices).
    private var remainder = PacketRemainder()
    /// The sequence id of the last packet relayed for the command in flight (an error sent to
    /// the client in its place continues from it).
    private var relayedSequenceID: UInt8?
    /// Relayed bytes were written to the sink without a flush (a response that spans reads).
    /// A response that ends flushes itself; the read that ended it may already have handed the
    /// connection to the next client, whose sink has nothing to flush.
    private var relayUnflushed = false

    init(login: Login, promise: EventLoopPromise<Greeting>, maxPacketSize: Int) {
        state = .greeting(login, promise)
        machine = CommandResponseStateMachine(capabilities: login.capabilities)
        decoder = MySQLPacketDecoder(maximumLogicalPacketSize: maxPacketSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        readRearm.attach(context)
    }

    /// The context holds this handler: keeping it past removal would keep the closed channel,
    /// its buffers and this handler alive for good (a reference cycle).
    func handlerRemoved(context: ChannelHandlerContext) {
        readRearm.detach()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = remainder.joined(with: unwrapInboundIn(data))
        // The bytes as received: slices of what was read already are cut from this copy (the
        // same storage), as a buffer's readable part ends where its reader index is.
        let received = buffer
        var chunkStart = buffer.readerIndex   // the next relayed chunk begins here
        var chunkEnd = chunkStart             // and ends after the last packet that was accepted
        func relayChunk() {
            if case .relaying(let sink) = state, chunkStart < chunkEnd {
                relayUnflushed = true
                sink.relay(received.getSlice(at: chunkStart, length: chunkEnd - chunkStart)!, last: nil)
            }
        }
        do {
            while true {
                if case .relaying = state, let bulk = forwardResultBulk(&buffer) {
                    relayedSequenceID = bulk
                    chunkEnd = buffer.readerIndex
                }
                let packetStart = buffer.readerIndex
                guard let packet = try decoder.decode(buffer: &buffer) else { break }
                if case .relaying(let sink) = state {
                    try relay(packet, to: sink, from: received, chunkStart: &chunkStart, packet: packetStart..<buffer.readerIndex)
                } else {
                    try handle(packet, context: context)
                    chunkStart = buffer.readerIndex
                }
                chunkEnd = buffer.readerIndex
                if case .closed = state { return }
            }
        } catch {
            relayChunk()   // what came before the bad packet still reaches the client, then the error
            fail(error, context: context)
            return
        }
        relayChunk()
        remainder.keep(buffer, allocator: context.channel.allocator)
    }

    /// The bulk of a result at the start of `buffer` (column count, definitions, their EOF,
    /// rows), walked without cutting it into packets (it joins the current chunk as it is): the
    /// sequence id of its last packet.
    private func forwardResultBulk(_ buffer: inout ByteBuffer) -> UInt8? {
        let maximumLength = decoder.maximumLogicalPacketSize
        guard let bulk = buffer.withUnsafeReadableBytes({ machine.forwardResultBulk($0, maximumLength: maximumLength) }) else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: bulk.count)
        return bulk.lastSequenceID
    }

    /// One packet of a relayed response: it joins the current chunk, which goes to the sink
    /// when the response ends (or the read does).
    private func relay(_ packet: MySQLPacket, to sink: RelaySink, from received: ByteBuffer, chunkStart: inout Int,
                       packet frame: Range<Int>) throws {
        let action = try machine.backendPacket(packet)
        relayedSequenceID = packet.sequenceID
        switch action {
        case .forward:
            break
        case .forwardAndComplete(let summary):
            state = .idle
            relayUnflushed = false   // the last chunk goes out with a flush
            let chunk = received.getSlice(at: chunkStart, length: frame.upperBound - chunkStart)!
            chunkStart = frame.upperBound
            sink.relay(chunk, last: (packet, summary))
        case .needClientData:
            if chunkStart < frame.lowerBound {
                relayUnflushed = true
                sink.relay(received.getSlice(at: chunkStart, length: frame.lowerBound - chunkStart)!, last: nil)
            }
            chunkStart = frame.upperBound
            sink.relayNeedsClientData(packet, frame: received.getSlice(at: frame.lowerBound, length: frame.count)!)
        }
    }

    private func handle(_ packet: MySQLPacket, context: ChannelHandlerContext) throws {
        switch state {
        case .greeting(let login, let promise):
            var payload = packet.payload
            if payload.getInteger(at: payload.readerIndex, as: UInt8.self) == ERRPacket.header {
                throw BackendError.refused(try ERRPacket(from: &payload, capabilities: .protocol41))
            }
            let handshake = try HandshakeV10(from: &payload)
            let capabilities = login.capabilities.intersection(handshake.capabilities)
            let greeting = Greeting(handshake: handshake, capabilities: capabilities)
            machine = CommandResponseStateMachine(capabilities: capabilities, statusFlags: handshake.statusFlags)
            let nonce = handshake.authPluginData
            let response = HandshakeResponse41(
                capabilities: capabilities.union(login.database == nil ? [] : .connectWithDB),
                maxPacketSize: 1 << 30, characterSet: CharacterSetID.utf8mb4GeneralCI,
                username: login.user, authResponse: login.credential.scramble(nonce: nonce),
                database: login.database, authPluginName: NativePassword.pluginName,
                attributes: [ConnectAttribute(key: "_client_name", value: "funnel"),
                             ConnectAttribute(key: "program_name", value: "chassis-funnel")])
            state = .authenticating(login, promise, greeting)
            write(response, sequenceID: packet.sequenceID &+ 1, capabilities: capabilities, context: context)

        case .authenticating(let login, let promise, let greeting):
            var payload = packet.payload
            switch payload.getInteger(at: payload.readerIndex, as: UInt8.self) {
            case OKPacket.header:
                state = .idle
                promise.succeed(greeting)
            case ERRPacket.header:
                throw BackendError.refused(try ERRPacket(from: &payload, capabilities: greeting.capabilities))
            case AuthSwitchRequest.header:
                let request = try AuthSwitchRequest(from: &payload)
                guard request.pluginName == NativePassword.pluginName else {
                    throw BackendError.unsupportedAuth(request.pluginName)
                }
                var out = context.channel.allocator.buffer(capacity: 20)
                out.writeBytes(login.credential.scramble(nonce: Array(request.pluginData.prefix(20))))
                state = .authenticating(login, promise, greeting)
                context.writeMySQLPacket(MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: out), flush: true)
            default:
                throw BackendError.unsupportedAuth("an unexpected authentication packet")
            }

        case .internalCommand(let promise, let collect, var packets):
            let action = try machine.backendPacket(packet)
            if collect { packets.append(packet) }
            switch action {
            case .forward:
                state = .internalCommand(promise, collect: collect, packets: packets)
            case .forwardAndComplete(let summary):
                state = .idle
                promise.succeed(InternalResult(summary: summary, packets: packets))
            case .needClientData:
                // The funnel never sends LOAD DATA LOCAL itself: answer "no file".
                state = .internalCommand(promise, collect: collect, packets: packets)
                context.writeMySQLPacket(MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: ByteBuffer()), flush: true)
                _ = try machine.clientPacket(MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: ByteBuffer()))
            }

        case .relaying:
            preconditionFailure("relayed packets go through relay(_:to:from:chunkStart:packet:)")

        case .idle:
            // A server speaks unasked only to say it is going away (shutdown, KILL, timeout).
            var payload = packet.payload
            if let err = try? ERRPacket(from: &payload, capabilities: machine.capabilities) {
                throw BackendError.refused(err)
            }
            throw BackendError.protocolViolation("unexpected packet while idle")

        case .closed:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if relayUnflushed, case .relaying(let sink) = state { sink.relayFlush() }   // may pause reading
        relayUnflushed = false
        if !readingPaused { readRearm.rearm() }
        context.fireChannelReadComplete()
    }

    // MARK: commands (called on the channel's event loop)

    /// Runs one of the funnel's own commands; the response never reaches a client.
    func runInternal(_ payload: ByteBuffer, collect: Bool = false, on loop: EventLoop) -> EventLoopFuture<InternalResult> {
        guard let context else { return loop.makeFailedFuture(BackendError.closed) }   // closed and torn down
        let promise = context.eventLoop.makePromise(of: InternalResult.self)
        guard case .idle = state else {
            promise.fail(BackendError.protocolViolation("internal command while busy"))
            return promise.futureResult
        }
        resumeReading()
        do {
            guard try machine.commandSent(payload) == .response else {
                state = .idle
                context.writeMySQLPacket(MySQLPacket(sequenceID: 0, payload: payload), flush: true)
                promise.succeed(InternalResult(summary: ResponseSummary(statusFlags: machine.statusFlags), packets: []))
                return promise.futureResult
            }
        } catch {
            promise.fail(error)
            return promise.futureResult
        }
        state = .internalCommand(promise, collect: collect, packets: [])
        context.writeMySQLPacket(MySQLPacket(sequenceID: 0, payload: payload), flush: true)
        return promise.futureResult
    }

    /// Sends a client's command (its physical packets) and relays the response to `sink`.
    /// Returns false when the command expects no response (the caller completes it itself).
    func relay(_ packets: [MySQLPacket], to sink: RelaySink) throws -> Bool {
        if case .closed = state { throw BackendError.closed }
        guard let context, case .idle = state, let first = packets.first else {
            throw BackendError.protocolViolation("command while the connection is busy")
        }
        let expectation = try machine.commandSent(first.payload)
        resumeReading()
        relayedSequenceID = nil
        if expectation != .noResponse { state = .relaying(sink) }
        // One reused buffer frames the command: no allocation per statement. Its storage is
        // copied only if a write of the last command still holds it; a big one is let go.
        if outbound.capacity > Self.outboundKept { outbound = ByteBuffer() } else { outbound.clear() }
        for packet in packets { outbound.writeMySQLPacket(packet) }
        writer.writeAndFlush(outbound, from: context)
        return expectation != .noResponse
    }

    /// More physical packets of a command already sent (the tail of a >16 MiB command, or
    /// LOCAL INFILE data), forwarded unchanged.
    func forwardClientPackets(_ packets: [MySQLPacket]) throws {
        guard let context else { throw BackendError.closed }
        for packet in packets {
            if case .relaying = state, !machine.isIdle {
                _ = try? machine.clientPacket(packet)
            }
            context.writeMySQLPacket(packet)
        }
        context.flush()
    }

    var isIdle: Bool { if case .idle = state { return true } else { return false } }

    // MARK: backpressure (on the channel's event loop)

    private var readingPaused = false
    private var readRearm = DirectReadRearm()

    /// The client cannot take more yet: stop reading this connection.
    func pauseReading() {
        guard !readingPaused, let context else { return }
        readingPaused = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
    }

    /// Reading again: the client drained, or a new command starts (the connection may have been
    /// handed over paused, when the client stalled on a response's last bytes).
    func resumeReading() {
        guard readingPaused, let context else { return }
        readingPaused = false
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
    }

    // MARK: failure

    func channelInactive(context: ChannelHandlerContext) {
        fail(BackendError.closed, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(error, context: context)
    }

    private func fail(_ error: Error, context: ChannelHandlerContext) {
        let previous = state
        state = .closed
        switch previous {
        case .greeting(_, let promise), .authenticating(_, let promise, _): promise.fail(error)
        case .internalCommand(let promise, _, _): promise.fail(error)
        case .relaying(let sink): sink.relayFailed(error, nextSequenceID: relayedSequenceID.map { $0 &+ 1 })
        case .idle, .closed: break
        }
        if case .closed = previous { return }
        onClose?(error)
        context.close(promise: nil)
    }

    /// Told once when the connection is gone, whatever the reason.
    var onClose: ((Error) -> Void)?

    private func write<M: MySQLMessage>(_ message: M, sequenceID: UInt8, capabilities: CapabilityFlags, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 128)
        message.write(into: &buffer, capabilities: capabilities)
        context.writeMySQLPacket(MySQLPacket(sequenceID: sequenceID, payload: buffer), flush: true)
    }
}

/// What the funnel logs in to a backend with: SHA1(password), recovered from the client's own
/// login (as ProxySQL does), or the password itself when configured in clear.
enum BackendCredential: Sendable {
    case stage1([UInt8])

    init(password: String) {
        self = .stage1(password.isEmpty ? [] : NativePassword.stage1(password: password))
    }

    func scramble(nonce: [UInt8]) -> [UInt8] {
        switch self {
        case .stage1(let hash): return hash.isEmpty ? [] : NativePassword.scramble(stage1: hash, nonce: nonce)
        }
    }
}

enum BackendError: Error, CustomStringConvertible {
    case refused(ERRPacket)
    case unsupportedAuth(String)
    case protocolViolation(String)
    case closed
    case timeout
    case noCredential(String)

    var description: String {
        switch self {
        case .refused(let err): return "backend refused: \(err.errorCode) \(err.message)"
        case .unsupportedAuth(let name): return "backend asked for authentication plugin \(name), which the funnel does not speak"
        case .protocolViolation(let what): return "backend protocol violation: \(what)"
        case .closed: return "backend connection closed"
        case .timeout: return "backend connect timeout"
        case .noCredential(let user): return "no password known for user \(user) yet (log in once as that user, or configure its password in clear)"
        }
    }
}
