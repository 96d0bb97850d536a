import PluginKit

/// Every option the funnel declares (`--funnel-NAME` or `[funnel] NAME`), with its default.
enum FunnelOptions {
    static let all: [PluginDefinition.Option] = [
        .init("address", .string, default: "127.0.0.1:4040", help: "Where clients connect (host:port)."),
        .init("backend-addresses", .list, default: "127.0.0.1:3306", help: "Backend servers (host:port, comma-separated)."),
        .init("users", .table, help: "Users the funnel authenticates: {name = {password, database, max-client-connections, max-backend-connections, pool-mode}}."),
        .init("auth-user", .string, help: "Lookup account: fetches an unlisted user's password hash from the backend's mysql.user."),
        .init("auth-password", .string, default: "", help: "The lookup account's password."),
        .init("pool-mode", .string, default: "transaction", help: "Default pool mode: transaction or session."),
        .init("max-client-connections", .int, default: "10000", help: "Client connections in total (0: no limit)."),
        .init("max-client-connections-per-user", .int, default: "0", help: "Client connections per user (0: no limit)."),
        .init("backend-max-connections", .int, default: "64", help: "Connections to one backend, all users together."),
        .init("max-backend-connections", .int, default: "0", help: "Backend connections in total (0: no limit beyond each backend's)."),
        .init("max-backend-connections-per-user", .int, default: "0", help: "Backend connections per user (0: no limit)."),
        .init("max-connections-per-database", .int, default: "0", help: "Backend connections in use for one database (0: no limit)."),
        .init("database-limits", .table, help: "Per-database overrides: {dbname = max in use}."),
        .init("min-idle-connections", .int, default: "0", help: "Idle connections kept warm per backend and user."),
        .init("idle-timeout", .double, default: "600", help: "Seconds an idle backend connection is kept."),
        .init("max-lifetime", .double, default: "3600", help: "Seconds a backend connection lives at most (closed when idle)."),
        .init("ping-after-idle", .double, default: "30", help: "Ping a connection idle this many seconds before handing it over."),
        .init("backlog-max", .int, default: "10000", help: "Requests that may wait for a backend connection (0: no limit)."),
        .init("backlog-max-per-user", .int, default: "0", help: "Waiting requests per user (0: no limit)."),
        .init("backlog-timeout", .double, default: "10", help: "Seconds a request waits for a backend connection before ERR 9001."),
        .init("connect-timeout", .double, default: "5", help: "Seconds to open and log in a backend connection."),
        .init("threads", .int, default: "0", help: "Event-loop threads (0: one per core)."),
        .init("server-version", .string, default: "10.11.0-funnel", help: "Version string clients see in the greeting (MariaDB style)."),
        .init("max-packet-size", .int, default: "1073741824", help: "Largest logical packet accepted from a client or backend (bytes)."),
    ]
}
