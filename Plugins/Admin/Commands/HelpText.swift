/// SHOW HELP: every statement of the dialect with an example. docs/admin.md says more.
enum HelpText {
    private static let entries: [(String, String)] = [
        ("SHOW TABLES", "the tables: backends pools clients users query_digests metrics plugins services config"),
        ("SHOW HELP", "this list"),
        ("SELECT cols|* FROM table [WHERE col op value [AND ...]] [ORDER BY col [ASC|DESC]] [LIMIT n]",
         "read a table; op is = != <> < <= > >= LIKE. SELECT * FROM pools WHERE in_use > 0 ORDER BY hand_overs DESC"),
        ("INSERT INTO backends (address, role, weight, max_connections) VALUES (...)",
         "add a backend: INSERT INTO backends (address, role, weight) VALUES ('10.0.0.7:3306', 'ro', 2)"),
        ("UPDATE backends SET weight|role|max_connections|state = value WHERE ...",
         "change backends; state is 'up' or 'maintenance': UPDATE backends SET state = 'maintenance' WHERE address = '10.0.0.7:3306'"),
        ("DELETE FROM backends WHERE ...", "drain backends: no new work, open transactions finish, then their connections close"),
        ("INSERT INTO users (name, password, database, max_client_connections, max_backend_connections, pool_mode) VALUES (...)",
         "add a user: INSERT INTO users (name, password, pool_mode) VALUES ('report', 's3cret', 'session')"),
        ("UPDATE users SET password|database|max_client_connections|max_backend_connections|pool_mode = value WHERE ...",
         "change users: UPDATE users SET max_client_connections = 50 WHERE name = 'app'"),
        ("SET option = value", "change a live funnel option: SET backlog_timeout = 5"),
        ("KILL CLIENT id", "close a client connection (ids are in the clients table)"),
        ("PAUSE / RESUME", "hold new statements in the backlog / let them run"),
        ("RELOAD", "re-read the config file and reload every plugin, as SIGHUP does"),
        ("LOAD PLUGIN name", "load and start one more plugin (it cannot be unloaded again)"),
    ]

    static let table = ResultTable(name: "", columns: [Column("statement", .varchar), Column("description", .varchar)],
                                   rows: entries.map { [.text($0.0), .text($0.1)] })
}
