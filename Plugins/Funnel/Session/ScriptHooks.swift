import CChassis
import MySQLWire
import NIOCore

/// The lua plugin's "scripting" service as the funnel calls it (docs/scripting.md): read_query
/// may answer a command itself (proxy.response) or queue queries of its own (proxy.queries), whose
/// responses go through read_query_result one by one before the client gets one answer.
struct ScriptHooks: @unchecked Sendable {
    let table: UnsafePointer<chassis_scripting_service>
    let instance: UnsafeMutableRawPointer?

    struct Query {
        var id: Int64
        var payload: ByteBuffer
    }

    /// What read_query decided for one command.
    enum Decision {
        case passThrough
        case answer([ByteBuffer])
        /// Run these instead of the client's command; read_query_result sees each response.
        case queue([Query])
    }

    /// proxy.connection.backend_ndx as the script left it.
    enum BackendChoice: Equatable {
        case untouched
        case release
        case use(String)
    }

    /// What read_query_result decided for one queued query's response.
    enum ResultDecision {
        case forward
        case ignore
        case answer([ByteBuffer])
    }

    func create(id: UInt32, address: String, user: String, database: String?, capabilities: CapabilityFlags) -> OpaquePointer? {
        address.withCString { a in user.withCString { u in (database ?? "").withCString { d in
            var connection = chassis_script_connection(size: UInt32(MemoryLayout<chassis_script_connection>.size), connection_id: id,
                                                       client_address: a, proxy_address: nil, user: u, database: d,
                                                       client_capabilities: capabilities.rawValue)
            return table.pointee.create(instance, &connection)
        } } }
    }

    /// After authentication: the user, database and capabilities the script sees.
    func setConnection(_ context: OpaquePointer, id: UInt32, address: String, user: String, database: String?,
                       capabilities: CapabilityFlags) {
        address.withCString { a in user.withCString { u in (database ?? "").withCString { d in
            var connection = chassis_script_connection(size: UInt32(MemoryLayout<chassis_script_connection>.size), connection_id: id,
                                                       client_address: a, proxy_address: nil, user: u, database: d,
                                                       client_capabilities: capabilities.rawValue)
            table.pointee.set_connection(instance, context, &connection)
        } } }
    }

    /// connect_server: the script's own greeting when it acts as the server, or nil.
    func connectServer(_ context: OpaquePointer) -> [ByteBuffer]? {
        guard table.pointee.hooks_present(instance, context) & UInt32(CHASSIS_SCRIPT_HOOK_CONNECT_SERVER) != 0 else { return nil }
        var result = Self.emptyResult()
        let action = table.pointee.connect_server(instance, context, &result)
        return action == Int32(CHASSIS_SCRIPT_SEND_RESULT.rawValue) ? Self.packets(result) : nil
    }

    /// read_handshake (the greeting about to go out) and read_auth_result (the login's OK or ERR
    /// about to go out): the script's replacement, or nil to send the funnel's own.
    func replace(_ hook: Int, _ context: OpaquePointer, payload: ByteBuffer) -> [ByteBuffer]? {
        guard table.pointee.hooks_present(instance, context) & UInt32(hook) != 0 else { return nil }
        var result = Self.emptyResult()
        let action = payload.withUnsafeReadableBytes { bytes -> Int32 in
            let base = bytes.bindMemory(to: UInt8.self).baseAddress!
            return hook == CHASSIS_SCRIPT_HOOK_READ_HANDSHAKE
                ? table.pointee.read_handshake(instance, context, base, bytes.count, &result)
                : table.pointee.read_auth_result(instance, context, base, bytes.count, &result)
        }
        return action == Int32(CHASSIS_SCRIPT_SEND_RESULT.rawValue) ? Self.packets(result) : nil
    }

    /// read_auth with the client's login packet: the script's own answer, or nil to go on.
    func readAuth(_ context: OpaquePointer, payload: ByteBuffer) -> [ByteBuffer]? {
        guard table.pointee.hooks_present(instance, context) & UInt32(CHASSIS_SCRIPT_HOOK_READ_AUTH) != 0 else { return nil }
        var result = Self.emptyResult()
        let action = payload.withUnsafeReadableBytes { bytes in
            table.pointee.read_auth(instance, context, bytes.bindMemory(to: UInt8.self).baseAddress!, bytes.count, &result)
        }
        return action == Int32(CHASSIS_SCRIPT_SEND_RESULT.rawValue) ? Self.packets(result) : nil
    }

    func destroy(_ context: OpaquePointer) {
        let ctx = context
        if table.pointee.hooks_present(instance, ctx) & UInt32(CHASSIS_SCRIPT_HOOK_DISCONNECT_CLIENT) != 0 {
            var result = Self.emptyResult()
            _ = table.pointee.disconnect_client(instance, ctx, &result)
        }
        table.pointee.destroy(instance, ctx)
    }

    /// The decision, the backend choice, and proxy.connection.connection_close (close after answering).
    func readQuery(_ context: OpaquePointer, payload: ByteBuffer) -> (Decision, BackendChoice, Bool) {
        let ctx = context
        let hooks = table.pointee.hooks_present(instance, ctx)
        guard hooks & UInt32(CHASSIS_SCRIPT_HOOK_READ_QUERY) != 0 else { return (.passThrough, .untouched, false) }
        var result = Self.emptyResult()
        let action = payload.withUnsafeReadableBytes { bytes in
            table.pointee.read_query(instance, ctx, bytes.bindMemory(to: UInt8.self).baseAddress!, bytes.count, &result)
        }
        let choice: BackendChoice
        switch result.backend_ndx {
        case 0: choice = .release
        case 1...: choice = result.backend_address.map { .use(String(cString: $0)) } ?? .untouched
        default: choice = .untouched
        }
        let close = result.connection_close != 0
        switch action {
        case Int32(CHASSIS_SCRIPT_SEND_RESULT.rawValue):
            return (.answer(Self.packets(result)), choice, close)
        case Int32(CHASSIS_SCRIPT_SEND_QUERY.rawValue), Int32(CHASSIS_SCRIPT_SEND_INJECTION.rawValue):
            let queue = Self.queue(result)
            return (queue.isEmpty ? .passThrough : .queue(queue), choice, close)
        default:
            return (.passThrough, choice, close)
        }
    }

    /// One queued query's buffered response; returns the decision and the queue left to run.
    func readQueryResult(_ context: OpaquePointer, id: Int64, packets: [MySQLPacket], summary: ResponseSummary,
                         queryMicros: UInt64, responseMicros: UInt64) -> (ResultDecision, [Query]) {
        // One contiguous copy of the payloads, so every chassis_script_bytes points into it during the call.
        var storage: [UInt8] = []
        storage.reserveCapacity(packets.reduce(0) { $0 + $1.payload.readableBytes })
        var ranges: [Range<Int>] = []
        for packet in packets {
            let start = storage.count
            storage.append(contentsOf: packet.payload.readableBytesView)
            ranges.append(start..<storage.count)
        }
        var rowBytes: UInt64 = 0
        for packet in packets { rowBytes += UInt64(packet.payload.readableBytes + 4) }
        var result = Self.emptyResult()
        let action = storage.withUnsafeBufferPointer { buffer -> Int32 in
            let items = ranges.map { chassis_script_bytes(data: buffer.baseAddress?.advanced(by: $0.lowerBound), length: $0.count) }
            return items.withUnsafeBufferPointer { list in
                var response = chassis_script_query_result(
                    size: UInt32(MemoryLayout<chassis_script_query_result>.size), id: id, packet_count: UInt32(list.count),
                    packets: list.baseAddress, forwarded: 0, query_time_us: queryMicros, response_time_us: responseMicros,
                    query_status: summary.isError ? 255 : 0, row_count: summary.rowCount, bytes: rowBytes,
                    affected_rows: summary.affectedRows, insert_id: summary.lastInsertID, warning_count: summary.warnings,
                    server_status: summary.statusFlags.rawValue)
                return table.pointee.read_query_result(instance, context, &response, &result)
            }
        }
        let queue = Self.queue(result)
        switch action {
        case Int32(CHASSIS_SCRIPT_IGNORE_RESULT.rawValue): return (.ignore, queue)
        case Int32(CHASSIS_SCRIPT_SEND_RESULT.rawValue): return (.answer(Self.packets(result)), queue)
        default: return (.forward, queue)
        }
    }

    private static func packets(_ result: chassis_script_result) -> [ByteBuffer] {
        (0..<Int(result.packet_count)).map { buffer(result.packets![$0]) }
    }

    private static func queue(_ result: chassis_script_result) -> [Query] {
        (0..<Int(result.query_count)).map { Query(id: result.queries![$0].id, payload: buffer(result.queries![$0].packet)) }
    }

    private static func emptyResult() -> chassis_script_result {
        var result = chassis_script_result()
        result.size = UInt32(MemoryLayout<chassis_script_result>.size)
        result.backend_ndx = -1
        return result
    }

    private static func buffer(_ bytes: chassis_script_bytes) -> ByteBuffer {
        guard let data = bytes.data else { return ByteBuffer() }
        return ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: bytes.length))
    }
}
