/// INSERT, UPDATE and DELETE on `backends`, through funnel.backends. Every value is checked
/// before the first change is made, so a typo changes nothing.
struct BackendChanges {
    static let insertable = ["address", "role", "weight", "max_connections"]
    static let updatable = ["role", "weight", "max_connections", "state"]

    let access: ServiceAccess
    let table: TableDefinition

    func insert(_ insert: Insert) throws -> UInt64 {
        let backends = try FunnelBackends(access, for: "INSERT INTO backends")
        let specs = try ChangeSet.rows(of: insert, table: table, writable: Self.insertable).map { change in
            guard let address = try change.text("address") else { throw AdminError.missingValue("address") }
            return try spec(address, change)
        }
        for spec in specs { try backends.add(spec) }
        return UInt64(specs.count)
    }

    func update(_ update: Update) throws -> UInt64 {
        let backends = try FunnelBackends(access, for: "UPDATE backends")
        let change = try ChangeSet(table: table, pairs: update.assignments.map { ($0.column, $0.value) }, writable: Self.updatable)
        let template = try spec("", change)
        // DRAINING is DELETE's and DOWN the health checker's: an operator switches between these two.
        let state = try change.choice("state", ["up", "maintenance"]).map { name in FunnelBackends.states.first { $0.name == name }!.value }
        let addresses = try targets(update.conditions, backends, statement: "UPDATE")
        for address in addresses {
            if change.has("role") || change.has("weight") || change.has("max_connections") {
                var spec = template
                spec.address = address
                try backends.update(spec)
            }
            if let state { try backends.setState(address, state) }
        }
        return UInt64(addresses.count)
    }

    /// DELETE drains: no new work goes to the backend, open transactions finish, then it goes.
    func delete(_ delete: Delete) throws -> UInt64 {
        let backends = try FunnelBackends(access, for: "DELETE FROM backends")
        let addresses = try targets(delete.conditions, backends, statement: "DELETE FROM")
        for address in addresses { try backends.drain(address) }
        return UInt64(addresses.count)
    }

    private func targets(_ conditions: [Condition], _ backends: FunnelBackends, statement: String) throws -> [String] {
        let current = ResultTable(name: table.name, columns: table.columns, rows: backends.rows())
        return try ChangeSet.targets(conditions, in: current, statement: statement, example: "address = 'host:port'")
            .compactMap { $0[0].rendered }
    }

    /// 0 leaves a field to the funnel: its default on INSERT, unchanged on UPDATE.
    private func spec(_ address: String, _ change: ChangeSet) throws -> FunnelBackends.Spec {
        let limit = Int64(UInt32.max)
        var spec = FunnelBackends.Spec(address: address)
        if let role = try change.choice("role", FunnelBackends.roles.map(\.name)) {
            spec.role = FunnelBackends.roles.first { $0.name == role }!.value.rawValue
        }
        spec.weight = UInt32(try change.integer("weight", in: 1...limit) ?? 0)
        spec.maxConnections = UInt32(try change.integer("max_connections", in: 1...limit) ?? 0)
        return spec
    }
}
