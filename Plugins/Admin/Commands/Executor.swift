/// Runs one admin statement against the services. Every change goes through the service that
/// owns it, at once; the admin plugin keeps no state of the funnel's.
struct Executor {
    let access: ServiceAccess
    let session: SessionInfo

    func run(_ sql: String) -> Response {
        do {
            let statement: Statement
            do {
                statement = try Parser.parse(sql)
            } catch let error as SyntaxError {
                throw AdminError.syntax(error)
            }
            return try execute(statement)
        } catch let error as AdminError {
            return .error(error)
        } catch {
            return .error(.refused("\(error)"))
        }
    }

    private func execute(_ statement: Statement) throws -> Response {
        switch statement {
        case .empty:
            throw AdminError.emptyQuery()
        case .select(let query):
            return .rows(try TableQuery.select(query, from: TableCatalog.read(query.table, from: access)))
        case .selectValues(let items, let limit):
            return .rows(try SessionQueries(session: session).select(items, limit: limit))
        case .showTables:
            return .rows(ResultTable(name: "", columns: [Column("Tables_in_admin", .varchar)],
                                     rows: TableCatalog.all.map { [.text($0.name)] }))
        case .showDatabases:
            return .rows(ResultTable(name: "", columns: [Column("Database", .varchar)], rows: [[.text("admin")]]))
        case .showHelp:
            return .rows(HelpText.table)
        case .insert(let insert):
            let table = try writable(insert.table)
            return .ok(affectedRows: table.name == "backends"
                ? try BackendChanges(access: access, table: table).insert(insert)
                : try UserChanges(access: access, table: table).insert(insert))
        case .update(let update):
            let table = try writable(update.table)
            return .ok(affectedRows: table.name == "backends"
                ? try BackendChanges(access: access, table: table).update(update)
                : try UserChanges(access: access, table: table).update(update))
        case .delete(let delete):
            let table = try writable(delete.table)
            guard table.name == "backends" else {
                throw AdminError.unsupported("users cannot be deleted through the admin port; remove them from the config file and RELOAD")
            }
            return .ok(affectedRows: try BackendChanges(access: access, table: table).delete(delete))
        case .set(let items):
            try set(items)
            return .ok(affectedRows: 0)
        case .setNames, .endTransaction:
            return .ok(affectedRows: 0)
        case .killClient(let id):
            try FunnelClients(access, for: "KILL CLIENT").kill(id)
            return .ok(affectedRows: 0)
        case .pause:
            try FunnelControl(access, for: "PAUSE").pause()
            return .ok(affectedRows: 0)
        case .resume:
            try FunnelControl(access, for: "RESUME").resume()
            return .ok(affectedRows: 0)
        case .reload:
            try HostPlugins(access).reload()
            return .ok(affectedRows: 0)
        case .loadPlugin(let name):
            try HostPlugins(access).load(name)
            return .ok(affectedRows: 0)
        }
    }

    /// Only backends and users take changes; the other tables show what their plugins count.
    private func writable(_ name: String) throws -> TableDefinition {
        guard let table = TableCatalog.named(name) else { throw AdminError.unknownTable(name) }
        guard table.name == "backends" || table.name == "users" else {
            throw AdminError.readOnly("Table '\(table.name)' is read only (backends and users take changes)")
        }
        return table
    }

    /// Session variables a client library sets on connect are accepted and ignored; every other
    /// name is a live option of the funnel (`_` and `-` alike, as in the config file).
    private func set(_ items: [SetItem]) throws {
        let options = items.filter { !SessionQueries.isClientVariable($0) }
        guard !options.isEmpty else { return }
        let control = try FunnelControl(access, for: "SET \(options[0].name)")
        for item in options {
            guard let value = item.value.rendered else {
                throw AdminError.typeMismatch("SET \(item.name) needs a value, not NULL")
            }
            try control.setOption(item.name.replacingOccurrences(of: "_", with: "-"), value)
        }
    }
}
