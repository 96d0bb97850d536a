import CChassis

/// "funnel.pools": the `pools` table, one row per backend and user.
struct FunnelPools {
    static let columns = [
        Column("backend", .varchar), Column("user", .varchar), Column("open", .bigint), Column("idle", .bigint),
        Column("in_use", .bigint), Column("connecting", .bigint), Column("waiting", .bigint), Column("hand_overs", .bigint),
        Column("connects_ok", .bigint), Column("connects_failed", .bigint), Column("resets", .bigint),
    ]

    let access: ServiceAccess

    func rows() throws -> [[Value]] {
        let service = try access.require("funnel.pools", chassis_funnel_pools_service.self, plugin: "funnel", for: "table pools")
        return RowCollector.collect { user in
            service.calls.list(service.instance, { info, user in
                let p = info.pointee
                RowCollector.from(user).rows.append([
                    Value(p.backend), Value(p.user), Value(p.open), Value(p.idle), Value(p.in_use), Value(p.connecting),
                    Value(p.waiting), Value(p.hand_overs), Value(p.connects_ok), Value(p.connects_failed), Value(p.resets),
                ])
            }, user)
        }
    }
}
