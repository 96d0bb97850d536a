/// INSERT and UPDATE on `users`, through funnel.control set_user. The password is an input
/// only: the table never shows it.
struct UserChanges {
    static let insertable = ["name", "password", "database", "max_client_connections", "max_backend_connections", "pool_mode"]
    static let updatable = Array(insertable.dropFirst())

    let access: ServiceAccess
    let table: TableDefinition

    func insert(_ insert: Insert) throws -> UInt64 {
        let control = try FunnelControl(access, for: "INSERT INTO users")
        let existing = Set(control.users().compactMap { $0[0].rendered })
        var seen = Set<String>()
        let changes = try ChangeSet.rows(of: insert, table: table, writable: Self.insertable).map { change in
            guard let name = try change.text("name") else { throw AdminError.missingValue("name") }
            guard change.has("password") else { throw AdminError.missingValue("password") }
            // set_user adds or changes; INSERT only adds, as a primary key would have it.
            guard !existing.contains(name), seen.insert(name).inserted else { throw AdminError.duplicate(name, key: "name") }
            return try userChange(name, change)
        }
        for change in changes { try control.setUser(change) }
        return UInt64(changes.count)
    }

    func update(_ update: Update) throws -> UInt64 {
        let control = try FunnelControl(access, for: "UPDATE users")
        let change = try ChangeSet(table: table, pairs: update.assignments.map { ($0.column, $0.value) }, writable: Self.updatable)
        let template = try userChange("", change)
        let current = ResultTable(name: table.name, columns: table.columns, rows: control.users())
        let names = try ChangeSet.targets(update.conditions, in: current, statement: "UPDATE", example: "name = 'user'")
            .compactMap { $0[0].rendered }
        for name in names {
            var user = template
            user.name = name
            try control.setUser(user)
        }
        return UInt64(names.count)
    }

    /// NULL (or a column left out) keeps what the user has; a limit of 0 means none.
    private func userChange(_ name: String, _ change: ChangeSet) throws -> FunnelControl.UserChange {
        FunnelControl.UserChange(
            name: name, password: try change.text("password"), database: try change.text("database"),
            maxClientConnections: try change.integer("max_client_connections", in: 0...Int64.max) ?? -1,
            maxBackendConnections: try change.integer("max_backend_connections", in: 0...Int64.max) ?? -1,
            poolMode: try change.choice("pool_mode", ["transaction", "session"]))
    }
}
