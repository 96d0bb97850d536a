import CChassis

/// "funnel.clients": the `clients` table and KILL CLIENT.
struct FunnelClients {
    static let columns = [
        Column("id", .bigint), Column("user", .varchar), Column("address", .varchar), Column("db", .varchar),
        Column("state", .varchar), Column("pinned", .varchar), Column("backend", .varchar), Column("query", .varchar),
        Column("query_age_ms", .double),
    ]

    private let service: ServiceAccess.Handle<chassis_funnel_clients_service>

    init(_ access: ServiceAccess, for purpose: String) throws {
        service = try access.require("funnel.clients", chassis_funnel_clients_service.self, plugin: "funnel", for: purpose)
    }

    func rows() -> [[Value]] {
        RowCollector.collect { user in
            service.calls.list(service.instance, { info, user in
                let c = info.pointee
                RowCollector.from(user).rows.append([
                    Value(c.id), Value(c.user), Value(c.address), Value(c.database), Value(c.state), Value(c.pinned),
                    Value(c.backend), Value(c.current_query), .milliseconds(c.query_age_us, per: 1e3),
                ])
            }, user)
        }
    }

    func kill(_ id: UInt32) throws {
        let rc = service.calls.kill(service.instance, id)
        if rc == CHASSIS_ERR_NOT_FOUND { throw AdminError.unknownClient(id) }
        guard rc == CHASSIS_OK else { throw AdminError.refused("the funnel could not close client \(id) (error \(rc))") }
    }
}
