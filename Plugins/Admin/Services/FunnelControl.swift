import CChassis

/// "funnel.control": the `users` table, PAUSE/RESUME, SET of live options and user changes.
struct FunnelControl {
    static let columns = [
        Column("name", .varchar), Column("database", .varchar), Column("pool_mode", .varchar),
        Column("max_client_connections", .bigint), Column("max_backend_connections", .bigint),
        Column("clients", .bigint), Column("source", .varchar),
    ]

    private let service: ServiceAccess.Handle<chassis_funnel_control_service>

    init(_ access: ServiceAccess, for purpose: String) throws {
        service = try access.require("funnel.control", chassis_funnel_control_service.self, plugin: "funnel", for: purpose)
    }

    /// A limit of -1 (none of the user's own: the funnel-wide one applies) shows as NULL.
    func users() -> [[Value]] {
        RowCollector.collect { user in
            service.calls.list_users(service.instance, { info, user in
                let u = info.pointee
                RowCollector.from(user).rows.append([
                    Value(u.name), Value(u.database), Value(u.pool_mode),
                    u.max_client_connections < 0 ? .null : Value(u.max_client_connections),
                    u.max_backend_connections < 0 ? .null : Value(u.max_backend_connections),
                    Value(u.clients), Value(u.source),
                ])
            }, user)
        }
    }

    func pause() { service.calls.pause(service.instance) }
    func resume() { service.calls.resume(service.instance) }

    func setOption(_ name: String, _ value: String) throws {
        try ServiceAccess.call { err, size in
            name.withCString { n in value.withCString { v in service.calls.set_option(service.instance, n, v, err, size) } }
        }
    }

    /// nil fields and -1 limits are left as they are.
    struct UserChange {
        var name: String
        var password: String?
        var database: String?
        var maxClientConnections: Int64 = -1
        var maxBackendConnections: Int64 = -1
        var poolMode: String?
    }

    func setUser(_ change: UserChange) throws {
        try ServiceAccess.call { err, size in
            withOptionalCString(change.password) { password in
                withOptionalCString(change.database) { database in
                    withOptionalCString(change.poolMode) { poolMode in
                        change.name.withCString { name in
                            service.calls.set_user(service.instance, name, password, database, change.maxClientConnections,
                                                   change.maxBackendConnections, poolMode, err, size)
                        }
                    }
                }
            }
        }
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
