import Foundation
import MySQLWire

/// How a user's clients share backend connections.
enum PoolMode: String, Sendable {
    /// A client keeps one backend connection for its whole session.
    case session
    /// A client holds a backend connection only for a transaction (or one autocommit statement).
    case transaction
}

/// A user the funnel authenticates: from the config's users table, or fetched from the backend.
struct UserEntry: Sendable {
    var name: String
    /// SHA1(SHA1(password)), as MariaDB stores it for mysql_native_password.
    var storedHash: [UInt8]
    /// SHA1(password) when the config gives the password in clear: backend connections for
    /// this user can then be opened before any client of it logged in (min idle).
    var stage1: [UInt8]? = nil
    var defaultDatabase: String?
    var maxClientConnections: Int?
    var maxBackendConnections: Int?
    var poolMode: PoolMode?
    var readWriteSplit: Bool?

    /// Parses the `users` table option: `{"alice": {"password": "...", ...}}` or a list of
    /// tables with a `name` key. A password may be given in clear or as MariaDB's `*HEX` hash.
    static func parseTable(_ json: String) throws -> [UserEntry] {
        guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) else {
            throw FunnelConfigurationError("users: not a table")
        }
        var rows: [(String, [String: Any])] = []
        if let dict = object as? [String: Any] {
            for (name, value) in dict {
                guard let fields = value as? [String: Any] else { throw FunnelConfigurationError("users.\(name) must be a table") }
                rows.append((name, fields))
            }
        } else if let list = object as? [[String: Any]] {
            for fields in list {
                guard let name = fields["name"] as? String else { throw FunnelConfigurationError("every [[users]] entry needs a name") }
                rows.append((name, fields))
            }
        }
        return try rows.sorted { $0.0 < $1.0 }.map { try entry(name: $0.0, fields: $0.1) }
    }

    private static let knownKeys: Set<String> = ["name", "password", "database", "max-client-connections",
                                                 "max-backend-connections", "pool-mode", "read-write-split"]

    private static func entry(name: String, fields raw: [String: Any]) throws -> UserEntry {
        var fields: [String: Any] = [:]
        for (k, v) in raw { fields[k.replacingOccurrences(of: "_", with: "-")] = v }
        if let unknown = fields.keys.first(where: { !knownKeys.contains($0) }) {
            throw FunnelConfigurationError("users.\(name): unknown key '\(unknown)' (known: \(knownKeys.sorted().joined(separator: ", ")))")
        }
        guard let password = fields["password"] as? String else {
            throw FunnelConfigurationError("users.\(name): a password (clear text or *HEX hash) is required")
        }
        let hash: [UInt8]
        var stage1: [UInt8]?
        if password.hasPrefix("*") && password.count == 41 {
            guard let parsed = NativePassword.storedHash(fromHashString: password) else {
                throw FunnelConfigurationError("users.\(name): password hash '\(password)' is not 40 hex digits after '*'")
            }
            hash = parsed
        } else {
            hash = password.isEmpty ? [] : NativePassword.storedHash(password: password)
            stage1 = password.isEmpty ? [] : NativePassword.stage1(password: password)
        }
        var mode: PoolMode?
        if let text = fields["pool-mode"] as? String {
            guard let m = PoolMode(rawValue: text) else { throw FunnelConfigurationError("users.\(name): pool-mode must be session or transaction") }
            mode = m
        }
        func int(_ key: String) throws -> Int? {
            guard let v = fields[key] else { return nil }
            guard let n = v as? Int, n >= 0 else { throw FunnelConfigurationError("users.\(name): \(key) must be a whole number >= 0") }
            return n
        }
        return UserEntry(name: name, storedHash: hash, stage1: stage1, defaultDatabase: fields["database"] as? String,
                         maxClientConnections: try int("max-client-connections"),
                         maxBackendConnections: try int("max-backend-connections"),
                         poolMode: mode, readWriteSplit: fields["read-write-split"] as? Bool)
    }
}

struct FunnelConfigurationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
