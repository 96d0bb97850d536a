import CChassis

/// "funnel.backends": the `backends` table and the changes INSERT, UPDATE and DELETE make to it.
struct FunnelBackends {
    static let columns = [
        Column("address", .varchar), Column("role", .varchar), Column("weight", .bigint), Column("state", .varchar),
        Column("max_connections", .bigint), Column("open", .bigint), Column("idle", .bigint), Column("in_use", .bigint),
        Column("in_flight", .bigint), Column("queries", .bigint), Column("errors", .bigint),
        Column("p50_ms", .double), Column("p99_ms", .double),
    ]

    static let roles: [(name: String, value: chassis_funnel_backend_role)] = [("rw", CHASSIS_FUNNEL_ROLE_READ_WRITE), ("ro", CHASSIS_FUNNEL_ROLE_READ_ONLY)]
    static let states: [(name: String, value: chassis_funnel_backend_state)] = [
        ("up", CHASSIS_FUNNEL_BACKEND_UP), ("down", CHASSIS_FUNNEL_BACKEND_DOWN),
        ("draining", CHASSIS_FUNNEL_BACKEND_DRAINING), ("maintenance", CHASSIS_FUNNEL_BACKEND_MAINTENANCE),
    ]

    private let service: ServiceAccess.Handle<chassis_funnel_backends_service>

    init(_ access: ServiceAccess, for purpose: String) throws {
        service = try access.require("funnel.backends", chassis_funnel_backends_service.self, plugin: "funnel", for: purpose)
    }

    func rows() -> [[Value]] {
        RowCollector.collect { user in
            service.calls.list(service.instance, { info, user in
                let b = info.pointee
                RowCollector.from(user).rows.append([
                    Value(b.address), .text(FunnelBackends.name(of: b.role, in: FunnelBackends.roles)), Value(b.weight),
                    .text(FunnelBackends.name(of: b.state, in: FunnelBackends.states)), Value(b.max_connections),
                    Value(b.open), Value(b.idle), Value(b.in_use), Value(b.in_flight), Value(b.queries), Value(b.errors),
                    .milliseconds(b.latency_p50_us, per: 1e3), .milliseconds(b.latency_p99_us, per: 1e3),
                ])
            }, user)
        }
    }

    /// role and weight 0 / max_connections 0 mean "the funnel's default" on add, "unchanged" on update.
    struct Spec {
        var address: String
        var role: UInt32 = 0
        var weight: UInt32 = 0
        var maxConnections: UInt32 = 0
    }

    func add(_ spec: Spec) throws {
        try withSpec(spec) { spec, err, size in service.calls.add(service.instance, spec, err, size) }
    }

    func update(_ spec: Spec) throws {
        try withSpec(spec) { spec, err, size in service.calls.update(service.instance, spec, err, size) }
    }

    /// Graceful removal with the funnel's configured drain timeout.
    func drain(_ address: String) throws {
        try ServiceAccess.call { err, size in address.withCString { service.calls.drain(service.instance, $0, 0, err, size) } }
    }

    func setState(_ address: String, _ state: chassis_funnel_backend_state) throws {
        try ServiceAccess.call { err, size in
            address.withCString { service.calls.set_state(service.instance, $0, state.rawValue, err, size) }
        }
    }

    private func withSpec(_ spec: Spec,
                          _ body: (UnsafePointer<chassis_funnel_backend_spec>, UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        try ServiceAccess.call { err, size in
            spec.address.withCString { address in
                var c = chassis_funnel_backend_spec(size: UInt32(MemoryLayout<chassis_funnel_backend_spec>.size), address: address,
                                                    role: spec.role, weight: spec.weight, max_connections: spec.maxConnections)
                return body(&c, err, size)
            }
        }
    }

    static func name<E: RawRepresentable>(of raw: UInt32, in names: [(name: String, value: E)]) -> String where E.RawValue == UInt32 {
        names.first { $0.value.rawValue == raw }?.name ?? "unknown(\(raw))"
    }
}
