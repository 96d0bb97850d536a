import Foundation
import PluginKit
import Pooling

/// The funnel's settings, read from the plugin's options and checked once.
struct FunnelConfiguration: Sendable {
    var address: HostPort
    var backends: [HostPort]
    var users: [UserEntry]
    var authUser: String?
    var authPassword: String
    var defaultPoolMode: PoolMode
    var admission: ClientAdmission.Limits
    var pool: PoolConfiguration
    var backendMaxConnections: Int
    var connectTimeout: Double
    var threads: Int
    var serverVersion: String
    var maxPacketSize: Int

    init(context: PluginContext) throws {
        func int(_ name: String) -> Int { context.intOption(name) ?? 0 }
        func positive(_ name: String) -> Int? { let v = int(name); return v > 0 ? v : nil }
        func seconds(_ name: String) throws -> PoolDuration {
            let v = context.doubleOption(name) ?? 0
            guard v > 0 else { throw FunnelConfigurationError("\(name) must be more than 0 seconds") }
            return .nanoseconds(UInt64(v * 1e9))
        }

        address = try HostPort(parsing: context.option("address") ?? "127.0.0.1:4040")
        backends = try context.listOption("backend-addresses").map { try HostPort(parsing: $0, defaultHost: "127.0.0.1") }
        guard !backends.isEmpty else { throw FunnelConfigurationError("backend-addresses: at least one backend is needed") }
        users = try context.option("users").map(UserEntry.parseTable) ?? []
        authUser = context.option("auth-user").flatMap { $0.isEmpty ? nil : $0 }
        authPassword = context.option("auth-password") ?? ""
        guard let mode = PoolMode(rawValue: context.option("pool-mode") ?? "transaction") else {
            throw FunnelConfigurationError("pool-mode must be transaction or session")
        }
        defaultPoolMode = mode

        var userClientLimits: [String: Int] = [:]
        var userBackendLimits: [String: Int] = [:]
        for user in users {
            if let n = user.maxClientConnections { userClientLimits[user.name] = n }
            if let n = user.maxBackendConnections { userBackendLimits[user.name] = n }
        }
        admission = ClientAdmission.Limits(maxClients: positive("max-client-connections"),
                                           maxClientsPerUser: positive("max-client-connections-per-user"),
                                           userLimits: userClientLimits)
        var databaseLimits: [String: Int] = [:]
        if let json = context.option("database-limits"), let data = json.data(using: .utf8) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw FunnelConfigurationError("database-limits must be a table of database = number")
            }
            for (db, value) in object {
                guard let n = value as? Int, n > 0 else { throw FunnelConfigurationError("database-limits.\(db) must be a number > 0") }
                databaseLimits[db] = n
            }
        }
        backendMaxConnections = int("backend-max-connections")
        guard backendMaxConnections > 0 else { throw FunnelConfigurationError("backend-max-connections must be at least 1") }
        pool = PoolConfiguration(
            maxConnections: positive("max-backend-connections"),
            maxConnectionsPerUser: positive("max-backend-connections-per-user"),
            userConnectionLimits: userBackendLimits,
            maxInUsePerDatabase: positive("max-connections-per-database"),
            databaseInUseLimits: databaseLimits,
            maxWaiting: positive("backlog-max"),
            maxWaitingPerUser: positive("backlog-max-per-user"),
            waitTimeout: try seconds("backlog-timeout"),
            idleTimeout: try seconds("idle-timeout"),
            maxLifetime: try seconds("max-lifetime"),
            minIdlePerPool: int("min-idle-connections"),
            pingAfterIdle: try seconds("ping-after-idle"))
        connectTimeout = context.doubleOption("connect-timeout") ?? 5
        threads = int("threads") > 0 ? int("threads") : System.coreCount
        serverVersion = context.option("server-version") ?? "10.11.0-funnel"
        maxPacketSize = max(int("max-packet-size"), 1 << 20)
    }

    func poolMode(for user: String) -> PoolMode {
        users.first { $0.name == user }?.poolMode ?? defaultPoolMode
    }
}

import NIOCore
