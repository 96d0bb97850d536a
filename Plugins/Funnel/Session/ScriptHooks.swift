import CChassis
import MySQLWire
import NIOCore

/// The lua plugin's "scripting" service as the funnel calls it (docs/scripting.md). This first
/// wiring runs read_query: a script may answer a query itself (proxy.response) or replace it with
/// one query of its own (proxy.queries:append + PROXY_SEND_QUERY) whose result the client gets.
/// Scripts that need read_query_result or several queued queries get a clear ERR for now.
struct ScriptHooks: @unchecked Sendable {
    let table: UnsafePointer<chassis_scripting_service>
    let instance: UnsafeMutableRawPointer?

    /// What read_query decided for one command.
    enum Decision {
        case passThrough
        case answer([ByteBuffer])
        case replace(ByteBuffer)
        case unsupported(String)
    }

    func create(id: UInt32, address: String, user: String, database: String?, capabilities: CapabilityFlags) -> OpaquePointer? {
        address.withCString { a in user.withCString { u in (database ?? "").withCString { d in
            var connection = chassis_script_connection(size: UInt32(MemoryLayout<chassis_script_connection>.size), connection_id: id,
                                                       client_address: a, proxy_address: nil, user: u, database: d,
                                                       client_capabilities: capabilities.rawValue)
            return table.pointee.create(instance, &connection)
        } } }
    }

    func destroy(_ context: OpaquePointer) {
        let ctx = context
        if table.pointee.hooks_present(instance, ctx) & UInt32(CHASSIS_SCRIPT_HOOK_DISCONNECT_CLIENT) != 0 {
            var result = Self.emptyResult()
            _ = table.pointee.disconnect_client(instance, ctx, &result)
        }
        table.pointee.destroy(instance, ctx)
    }

    func readQuery(_ context: OpaquePointer, payload: ByteBuffer) -> Decision {
        let ctx = context
        let hooks = table.pointee.hooks_present(instance, ctx)
        guard hooks & UInt32(CHASSIS_SCRIPT_HOOK_READ_QUERY) != 0 else { return .passThrough }
        var result = Self.emptyResult()
        let action = payload.withUnsafeReadableBytes { bytes in
            table.pointee.read_query(instance, ctx, bytes.bindMemory(to: UInt8.self).baseAddress!, bytes.count, &result)
        }
        switch action {
        case Int32(CHASSIS_SCRIPT_SEND_RESULT.rawValue):
            return .answer((0..<Int(result.packet_count)).map { Self.buffer(result.packets![$0]) })
        case Int32(CHASSIS_SCRIPT_SEND_QUERY.rawValue), Int32(CHASSIS_SCRIPT_SEND_INJECTION.rawValue):
            guard result.query_count == 1, let query = result.queries?.pointee,
                  hooks & UInt32(CHASSIS_SCRIPT_HOOK_READ_QUERY_RESULT) == 0 else {
                return .unsupported("funnel: this script queues several queries or defines read_query_result, which the funnel does not run yet")
            }
            return .replace(Self.buffer(query.packet))
        default:
            return .passThrough
        }
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
