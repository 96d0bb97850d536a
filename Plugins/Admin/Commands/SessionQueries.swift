import Foundation

/// Who is asking: what SELECT DATABASE(), USER() and CONNECTION_ID() answer.
struct SessionInfo {
    var connectionID: UInt32
    var user: String
    var clientAddress: String
    var database: String?

    static let serverVersion = "10.11.0-chassis-admin"
    static let versionComment = "chassis admin port (SHOW HELP lists the statements)"
}

/// What client libraries and the mariadb CLI ask on connect: SELECT without FROM over system
/// variables, a few functions and literals, and the session variables they SET.
struct SessionQueries {
    let session: SessionInfo

    /// The session variables drivers set; answered with OK, never passed to the funnel.
    private static let clientVariables: Set<String> = [
        "autocommit", "sql_mode", "time_zone", "names", "character_set_client", "character_set_results",
        "character_set_connection", "collation_connection", "sql_select_limit", "net_write_timeout", "net_read_timeout",
        "wait_timeout", "interactive_timeout", "transaction_isolation", "tx_isolation", "sql_auto_is_null",
        "max_execution_time", "session_track_schema", "session_track_system_variables", "session_track_state_change",
    ]

    static func isClientVariable(_ item: SetItem) -> Bool {
        item.scope == .session || (item.scope == .unspecified && clientVariables.contains(item.name.lowercased()))
    }

    func select(_ items: [SelectItem], limit: Int?) throws -> ResultTable {
        var columns: [Column] = []
        var row: [Value] = []
        for item in items {
            let (name, value) = try evaluate(item)
            row.append(value)
            switch value {
            case .integer: columns.append(Column(name, .bigint))
            case .real: columns.append(Column(name, .double))
            case .text, .null: columns.append(Column(name, .varchar))
            }
        }
        return ResultTable(name: "", columns: columns, rows: limit == 0 ? [] : [row])
    }

    private func evaluate(_ item: SelectItem) throws -> (String, Value) {
        switch item {
        case .literal(let value):
            return (value.rendered ?? "NULL", value)
        case .function(let name):
            return ("\(name)()", try function(name))
        case .variable(let name):
            return ("@@\(name)", try variable(name))
        }
    }

    private func function(_ name: String) throws -> Value {
        switch name {
        case "DATABASE", "SCHEMA": return session.database.map(Value.text) ?? .null
        case "USER", "CURRENT_USER", "SESSION_USER", "SYSTEM_USER": return .text("\(session.user)@\(session.clientAddress)")
        case "VERSION": return .text(SessionInfo.serverVersion)
        case "CONNECTION_ID": return Value(session.connectionID)
        default: throw AdminError.unknownFunction(name)
        }
    }

    /// The system variables clients read on connect and the CLI's `status` shows.
    private static let variables: [String: Value] = [
        "version_comment": .text(SessionInfo.versionComment), "version": .text(SessionInfo.serverVersion),
        "max_allowed_packet": .integer(Int64(AdminSession.maxPacketSize)), "autocommit": .integer(1),
        "character_set_client": .text("utf8mb4"), "character_set_connection": .text("utf8mb4"),
        "character_set_results": .text("utf8mb4"), "character_set_server": .text("utf8mb4"),
        "character_set_database": .text("utf8mb4"), "collation_connection": .text("utf8mb4_general_ci"),
        "collation_server": .text("utf8mb4_general_ci"), "collation_database": .text("utf8mb4_general_ci"),
        "sql_mode": .text(""), "time_zone": .text("SYSTEM"), "system_time_zone": .text("UTC"),
        "transaction_isolation": .text("REPEATABLE-READ"), "tx_isolation": .text("REPEATABLE-READ"),
        "lower_case_table_names": .integer(0), "wait_timeout": .integer(28800), "interactive_timeout": .integer(28800),
    ]

    private func variable(_ scoped: String) throws -> Value {
        let name = scoped.split(separator: ".").last.map { $0.lowercased() } ?? ""
        guard let value = Self.variables[name] else { throw AdminError.unknownVariable(name) }
        return value
    }
}
