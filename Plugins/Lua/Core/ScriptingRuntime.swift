import CChassis
import CLuaGlue
import Foundation
import MySQLWire
import NIOCore
import PluginKit

/// The instance behind the "scripting" service: the script, one Lua state per thread that creates
/// connections, and the hook calls. A context is the glue's lg_conn itself, so a connection costs
/// no Swift allocation.
public final class ScriptingRuntime: @unchecked Sendable {
    /// chassis_log_level and the message.
    public typealias Log = (Int32, String) -> Void

    final class LogSink {
        let body: Log
        init(_ body: @escaping Log) { self.body = body }
    }

    let source: ScriptSource?
    private let sink: LogSink
    private let shared: OpaquePointer
    private let lock = NSLock()
    /// Per-thread states: a connection is served by the state of the thread that created it.
    private var states: [pthread_t: OpaquePointer] = [:]

    /// script nil: scripting is off and create() returns NULL.
    public init(script: String?, checkInterval: Double = 1, log: @escaping Log) throws {
        sink = LogSink(log)
        guard let shared = lg_shared_new({ user, level, message in
            Unmanaged<LogSink>.fromOpaque(user!).takeUnretainedValue().body(level, String(cString: message))
        }, Unmanaged.passUnretained(sink).toOpaque()) else { throw PluginError("cannot create the shared Lua state") }
        self.shared = shared
        source = script.map { ScriptSource(path: $0, checkInterval: checkInterval) }
    }

    deinit {
        for state in states.values { lg_state_free(state) }
        lg_shared_free(shared)
    }

    public func setBackends(_ table: UnsafePointer<chassis_funnel_backends_service>?, instance: UnsafeMutableRawPointer?) {
        lg_shared_set_backends(shared, table, instance)
    }

    /// Compiles the script once in a throwaway state, so a broken script is reported at start.
    /// Returns false when it does not load (the reason is logged; connections get the ERR).
    public func check() -> Bool {
        guard let source, let state = lg_state_new(shared) else { return source == nil }
        defer { lg_state_free(state) }
        return load(source.current(), into: state) == 0
    }

    // MARK: contexts

    func create(_ connection: UnsafePointer<chassis_script_connection>) -> OpaquePointer? {
        guard source != nil, let state = stateForCurrentThread() else { return nil }
        return lg_conn_new(state, connection)
    }

    private func stateForCurrentThread() -> OpaquePointer? {
        let thread = pthread_self()
        lock.lock()
        defer { lock.unlock() }
        if let state = states[thread] { return state }
        guard let state = lg_state_new(shared) else { return nil }
        states[thread] = state
        return state
    }

    /// Brings the connection's state to the script's current version.
    private func refresh(_ conn: OpaquePointer) {
        guard let source else { return }
        let generation = source.currentGeneration()
        let state = lg_conn_state(conn)
        if lg_state_generation(state) != generation { _ = load(source.current(), into: state) }
    }

    private func load(_ version: ScriptSource.Version, into state: OpaquePointer) -> Int32 {
        let path = source?.path ?? ""
        guard let text = version.text else {
            return lg_state_load(state, path, nil, 0, version.error ?? "cannot read the file", version.generation)
        }
        guard !text.isEmpty else { return lg_state_load(state, path, "", 0, nil, version.generation) }
        return text.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                lg_state_load(state, path, $0, bytes.count, nil, version.generation)
            }
        }
    }

    func hooks(_ conn: OpaquePointer) -> UInt32 {
        refresh(conn)
        lg_conn_mark_version_checked(conn)
        return lg_conn_hooks(conn)
    }

    // MARK: hook calls

    func call(_ conn: OpaquePointer, _ hook: lg_hook, payload: UnsafePointer<UInt8>? = nil, length: Int = 0,
              queryResult: UnsafePointer<chassis_script_query_result>? = nil,
              result: UnsafeMutablePointer<chassis_script_result>) -> Int32 {
        guard result.pointee.size >= MemoryLayout<chassis_script_result>.size else { return 0 }
        // The funnel asks hooks_present before each statement's hook: the version it checked
        // then holds for the call (a file change shows from the next statement on). A caller
        // that calls hooks without asking first gets the check here.
        if lg_conn_take_version_checked(conn) == 0 { refresh(conn) }
        // Only the login's packets are parsed here; a query's is not copied (this runs per query).
        if let payload, hook == LG_READ_AUTH || hook == LG_READ_HANDSHAKE {
            let bytes = ByteBuffer(bytes: UnsafeRawBufferPointer(start: payload, count: length))
            if hook == LG_READ_AUTH { noteAuth(conn, bytes) } else { noteGreeting(conn, bytes) }
        }
        var response = lg_response()
        let action = lg_call(conn, hook, payload, length, queryResult, result, &response)
        if action == Int32(CHASSIS_SCRIPT_SEND_RESULT.rawValue) {
            for payload in ResponseEncoder.payloads(response, capabilities: lg_conn_capabilities(conn)) {
                payload.withUnsafeReadableBytes {
                    lg_conn_add_packet(conn, $0.bindMemory(to: UInt8.self).baseAddress, $0.count, result)
                }
            }
        }
        return action
    }

    /// proxy.connection.client's username, scrambled_password, default_db and auth_plugin_name.
    private func noteAuth(_ conn: OpaquePointer, _ payload: ByteBuffer) {
        guard let response = try? HandshakeResponse41(payload: payload, capabilities: []) else { return }
        response.authResponse.withUnsafeBufferPointer { scrambled in
            lg_conn_set_auth(conn, response.username, scrambled.baseAddress, scrambled.count, response.database,
                             response.authPluginName)
        }
    }

    /// In read_handshake the client's server is the funnel: its greeting fills proxy.connection.server.
    private func noteGreeting(_ conn: OpaquePointer, _ payload: ByteBuffer) {
        guard let greeting = try? HandshakeV10(payload: payload, capabilities: []) else { return }
        greeting.serverVersion.withCString { version in
            greeting.authPluginData.withUnsafeBufferPointer { nonce in
                var server = chassis_script_server(size: UInt32(MemoryLayout<chassis_script_server>.size), address: nil,
                                                   backend_ndx: 0, thread_id: greeting.connectionID, version: version,
                                                   scramble: chassis_script_bytes(data: nonce.baseAddress, length: nonce.count))
                lg_conn_set_server(conn, &server)
            }
        }
    }
}
