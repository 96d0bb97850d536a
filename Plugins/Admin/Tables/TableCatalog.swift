import Foundation

/// Every admin table: its columns and where its rows come from. A table is read fresh from
/// its service for each statement; nothing is cached.
struct TableDefinition {
    var name: String
    var columns: [Column]
    var read: (ServiceAccess) throws -> [[Value]]
}

enum TableCatalog {
    static let all: [TableDefinition] = [
        TableDefinition(name: "backends", columns: FunnelBackends.columns) { try FunnelBackends($0, for: "table backends").rows() },
        TableDefinition(name: "pools", columns: FunnelPools.columns) { try FunnelPools(access: $0).rows() },
        TableDefinition(name: "clients", columns: FunnelClients.columns) { try FunnelClients($0, for: "table clients").rows() },
        TableDefinition(name: "users", columns: FunnelControl.columns) { try FunnelControl($0, for: "table users").users() },
        TableDefinition(name: "query_digests", columns: StatsFigures.digestColumns) {
            try StatsFigures($0, for: "table query_digests").digests()
        },
        TableDefinition(name: "metrics", columns: StatsFigures.metricColumns) { try StatsFigures($0, for: "table metrics").metrics() },
        TableDefinition(name: "plugins", columns: HostPlugins.columns) { try HostPlugins($0).rows() },
        TableDefinition(name: "services", columns: RegisteredServices.columns) { RegisteredServices(access: $0).rows() },
        TableDefinition(name: "config", columns: HostOptions.columns) { try HostOptions(access: $0).rows() },
    ]

    static func named(_ name: String) -> TableDefinition? {
        all.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    static func read(_ name: String, from access: ServiceAccess) throws -> ResultTable {
        guard let table = named(name) else { throw AdminError.unknownTable(name) }
        return ResultTable(name: table.name, columns: table.columns, rows: try table.read(access))
    }
}
