import Foundation
import PluginKit
import Pooling

/// The funnel's settings, read from the plugin's options and checked once.
struct FunnelConfiguration: Sendable {
    struct BackendSpec: Sendable, Equatable {
        var address: HostPort
        var role: BackendRole
        var weight: Int
        var maxConnections: Int
    }

    var address: HostPort
    var backends: [BackendSpec]
    var balance: BalanceAlgorithm
    var readWriteSplit: Bool
    var readYourWrites: Double
    var healthCheckInterval: Double
    var healthCheckTimeout: Double
    var healthCheckUser: String?
    var healthCheckPassword: String
    var ejectAfterFailures: Int
    var drainTimeout: Double
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
    var queryDigests: Bool
    /// Seconds a client may stay idle before it is parked outside NIO (0: never).
    var clientParkAfter: Double

    init(options context: OptionReader) throws {
        func int(_ name: String) -> Int { context.intOption(name) ?? 0 }
        func positive(_ name: String) -> Int? { let v = int(name); return v > 0 ? v : nil }
        func seconds(_ name: String) throws -> PoolDuration {
            let v = context.doubleOption(name) ?? 0
            guard v > 0 else { throw FunnelConfigurationError("\(name) must be more than 0 seconds") }
            return .nanoseconds(UInt64(v * 1e9))
        }

        address = try HostPort(parsing: context.option("address") ?? "127.0.0.1:4040", allowSocket: true)
        backendMaxConnections = int("backend-max-connections")
        guard backendMaxConnections > 0 else { throw FunnelConfigurationError("backend-max-connections must be at least 1") }
        backends = try Self.backendSpecs(context: context, defaultMax: backendMaxConnections)
        guard let algorithm = BalanceAlgorithm(rawValue: context.option("balance") ?? "least-outstanding") else {
            throw FunnelConfigurationError("balance must be one of \(BalanceAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        balance = algorithm
        readWriteSplit = context.boolOption("read-write-split")
        readYourWrites = max(context.doubleOption("read-your-writes") ?? 0, 0)
        healthCheckInterval = context.doubleOption("health-check-interval") ?? 2
        healthCheckTimeout = context.doubleOption("health-check-timeout") ?? 1
        guard healthCheckInterval > 0, healthCheckTimeout > 0 else { throw FunnelConfigurationError("health-check-interval and -timeout must be more than 0") }
        healthCheckUser = context.option("health-check-user").flatMap { $0.isEmpty ? nil : $0 }
        healthCheckPassword = context.option("health-check-password") ?? ""
        ejectAfterFailures = max(int("eject-after-failures"), 1)
        drainTimeout = max(context.doubleOption("drain-timeout") ?? 30, 0)
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
            pingAfterIdle: try seconds("ping-after-idle"),
            rebalanceHold: try Self.rebalanceHold(context.doubleOption("rebalance-hold") ?? 0.1))
        connectTimeout = context.doubleOption("connect-timeout") ?? 5
        threads = int("threads") > 0 ? int("threads") : Self.defaultThreads(cores: System.coreCount)
        serverVersion = context.option("server-version") ?? "10.11.0-funnel"
        maxPacketSize = max(int("max-packet-size"), 1 << 20)
        queryDigests = context.option("query-digests") == nil ? true : context.boolOption("query-digests")
        clientParkAfter = context.doubleOption("client-park-after") ?? 10
        guard clientParkAfter >= 0 else { throw FunnelConfigurationError("client-park-after must be 0 (never) or more seconds") }
    }

    private static func rebalanceHold(_ seconds: Double) throws -> PoolDuration {
        guard seconds >= 0, seconds <= 3600 else { throw FunnelConfigurationError("rebalance-hold must be 0 to 3600 seconds") }
        return .nanoseconds(UInt64(seconds * 1e9))
    }

    /// Event loops when `threads` is 0: half the cores, at least one. The funnel mostly shares its
    /// cores with mysqld or the clients; a loop then sleeps and wakes about once per statement, and
    /// on 2 cores two such loops cost about a third more CPU per query than one (docs/funnel.md).
    static func defaultThreads(cores: Int) -> Int { max(1, cores / 2) }

    /// backend-addresses (rw), read-only-backend-addresses (ro) and the backends table, in that order.
    private static func backendSpecs(context: OptionReader, defaultMax: Int) throws -> [BackendSpec] {
        var specs: [BackendSpec] = []
        func add(_ spec: BackendSpec) throws {
            guard !specs.contains(where: { $0.address == spec.address }) else {
                throw FunnelConfigurationError("backend \(spec.address) is listed twice")
            }
            specs.append(spec)
        }
        for text in context.listOption("backend-addresses") {
            try add(BackendSpec(address: try HostPort(parsing: text, defaultHost: "127.0.0.1", allowSocket: true), role: .readWrite, weight: 1, maxConnections: defaultMax))
        }
        for text in context.listOption("read-only-backend-addresses") {
            try add(BackendSpec(address: try HostPort(parsing: text, defaultHost: "127.0.0.1", allowSocket: true), role: .readOnly, weight: 1, maxConnections: defaultMax))
        }
        if let json = context.option("backends"), let data = json.data(using: .utf8) {
            guard let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
                throw FunnelConfigurationError("backends must be a list of tables ([[funnel.backends]])")
            }
            for raw in list {
                var entry: [String: Any] = [:]
                for (k, v) in raw { entry[k.replacingOccurrences(of: "_", with: "-")] = v }
                guard let address = entry["address"] as? String else { throw FunnelConfigurationError("every [[funnel.backends]] needs an address") }
                let roleText = entry["role"] as? String ?? "rw"
                guard let role = BackendRole(text: roleText) else { throw FunnelConfigurationError("backend \(address): role must be rw or ro") }
                let weight = entry["weight"] as? Int ?? 1
                let maxConnections = entry["max-connections"] as? Int ?? defaultMax
                guard weight >= 0, maxConnections > 0 else { throw FunnelConfigurationError("backend \(address): weight >= 0 and max-connections > 0") }
                try add(BackendSpec(address: try HostPort(parsing: address, defaultHost: "127.0.0.1", allowSocket: true), role: role, weight: weight, maxConnections: maxConnections))
            }
        }
        if specs.isEmpty {
            specs.append(BackendSpec(address: HostPort(host: "127.0.0.1", port: 3306), role: .readWrite, weight: 1, maxConnections: defaultMax))
        }
        return specs
    }
}

import NIOCore
