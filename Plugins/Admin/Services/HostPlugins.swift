import CChassis

/// "chassis.plugins": the `plugins` table, LOAD PLUGIN and RELOAD.
struct HostPlugins {
    static let columns = [Column("name", .varchar), Column("version", .varchar), Column("abi", .varchar),
                          Column("state", .varchar), Column("path", .varchar), Column("summary", .varchar)]

    private let service: ServiceAccess.Handle<chassis_plugins_service>

    init(_ access: ServiceAccess) throws {
        service = try access.host("chassis.plugins", chassis_plugins_service.self)
    }

    func rows() -> [[Value]] {
        RowCollector.collect { user in
            service.calls.list(service.instance, { info, user in
                let p = info.pointee
                RowCollector.from(user).rows.append([
                    Value(p.name), Value(p.version), .text("\(p.abi_major).\(p.abi_minor)"),
                    Value(p.state), Value(p.path), Value(p.summary),
                ])
            }, user)
        }
    }

    func names() -> [String] {
        rows().compactMap { $0.first?.rendered }
    }

    /// Loads, initialises and starts one more plugin; blocks until it runs or failed.
    func load(_ name: String) throws {
        try ServiceAccess.call { err, size in name.withCString { service.calls.load(service.instance, $0, err, size) } }
    }

    /// What SIGHUP does: re-read the config file, ask every plugin to reload.
    func reload() throws {
        try ServiceAccess.call { err, size in service.calls.reload(service.instance, err, size) }
    }
}
