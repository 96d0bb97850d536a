import CChassis
import CLuaGlue

/// The "scripting" service's function table (chassis_scripting.h). The instance is an unretained
/// ScriptingRuntime; a chassis_script_context is the glue's lg_conn.
public enum ScriptingService {
    public static let table: UnsafePointer<chassis_scripting_service> = {
        let table = UnsafeMutablePointer<chassis_scripting_service>.allocate(capacity: 1)
        table.initialize(to: chassis_scripting_service(
            size: UInt32(MemoryLayout<chassis_scripting_service>.size),
            create: { instance, connection in
                runtime(instance).create(connection)
            },
            destroy: { _, ctx in lg_conn_free(ctx) },
            // The two calls every query makes borrow the runtime instead of retaining it (it
            // outlives the service).
            hooks_present: { instance, ctx in
                Unmanaged<ScriptingRuntime>.fromOpaque(instance!)._withUnsafeGuaranteedRef { $0.hooks(ctx) }
            },
            set_connection: { _, ctx, connection in lg_conn_set_client(ctx, connection) },
            set_server: { _, ctx, server in lg_conn_set_server(ctx, server) },
            connect_server: { instance, ctx, result in
                runtime(instance).call(ctx, LG_CONNECT_SERVER, result: result)
            },
            read_handshake: { instance, ctx, payload, length, result in
                runtime(instance).call(ctx, LG_READ_HANDSHAKE, payload: payload, length: length, result: result)
            },
            read_auth: { instance, ctx, payload, length, result in
                runtime(instance).call(ctx, LG_READ_AUTH, payload: payload, length: length, result: result)
            },
            read_auth_result: { instance, ctx, payload, length, result in
                runtime(instance).call(ctx, LG_READ_AUTH_RESULT, payload: payload, length: length, result: result)
            },
            read_query: { instance, ctx, payload, length, result in
                Unmanaged<ScriptingRuntime>.fromOpaque(instance!)._withUnsafeGuaranteedRef {
                    $0.call(ctx, LG_READ_QUERY, payload: payload, length: length, result: result)
                }
            },
            read_query_result: { instance, ctx, response, result in
                runtime(instance).call(ctx, LG_READ_QUERY_RESULT, queryResult: response, result: result)
            },
            disconnect_client: { instance, ctx, result in
                runtime(instance).call(ctx, LG_DISCONNECT_CLIENT, result: result)
            },
            set_backends: { instance, backends, backendsInstance in
                runtime(instance).setBackends(backends, instance: backendsInstance)
            }))
        return UnsafePointer(table)
    }()

    /// The service's instance pointer for a runtime (not retained: the plugin keeps the runtime alive).
    public static func instance(_ runtime: ScriptingRuntime) -> UnsafeMutableRawPointer {
        Unmanaged.passUnretained(runtime).toOpaque()
    }

    private static func runtime(_ instance: UnsafeMutableRawPointer?) -> ScriptingRuntime {
        Unmanaged<ScriptingRuntime>.fromOpaque(instance!).takeUnretainedValue()
    }
}
