import MySQLWire
import NIOConcurrencyHelpers
import NIOCore
import Pooling

/// The users the funnel knows: those of the config, and (with a lookup account, as PgBouncer's
/// auth_query) any other user whose mysql_native_password hash the backend's mysql.user holds.
/// Looked-up users are cached for a minute, so a login storm costs one lookup per user.
final class UserDirectory: @unchecked Sendable {
    private var configured: [String: (entry: UserEntry, source: String)]
    private let lookupUser: String?
    private let lookupCredential: BackendCredential
    /// Where to look users up, in order of preference (the live backends, see FunnelRuntime).
    private let lookupTargets: @Sendable () -> [HostPort]
    private let connector: BackendConnector
    private let lock = NIOLock()
    private var cache: [String: (entry: UserEntry?, expires: NIODeadline)] = [:]
    private static let cacheLifetime = TimeAmount.seconds(60)

    init(configuration: FunnelConfiguration, connector: BackendConnector, lookupTargets: @escaping @Sendable () -> [HostPort]) {
        var byName: [String: (UserEntry, String)] = [:]
        for user in configuration.users { byName[user.name] = (user, "config") }
        configured = byName
        _defaultPoolMode = configuration.defaultPoolMode
        _defaultReadWriteSplit = configuration.readWriteSplit
        lookupUser = configuration.authUser
        lookupCredential = BackendCredential(password: configuration.authPassword)
        self.lookupTargets = lookupTargets
        self.connector = connector
    }

    var defaultPoolMode: PoolMode {
        get { lock.withLock { _defaultPoolMode } }
        set { lock.withLock { _defaultPoolMode = newValue } }
    }
    private var _defaultPoolMode: PoolMode = .transaction
    var defaultReadWriteSplit: Bool {
        get { lock.withLock { _defaultReadWriteSplit } }
        set { lock.withLock { _defaultReadWriteSplit = newValue } }
    }
    private var _defaultReadWriteSplit = false

    func poolMode(for user: String) -> PoolMode {
        lock.withLock { configured[user]?.entry.poolMode ?? _defaultPoolMode }
    }

    func readWriteSplit(for user: String) -> Bool {
        lock.withLock { configured[user]?.entry.readWriteSplit ?? _defaultReadWriteSplit }
    }

    /// Adds or replaces a user (admin's INSERT/UPDATE users).
    func set(_ entry: UserEntry, source: String) {
        lock.withLock { configured[entry.name] = (entry, source) }
    }

    func configuredEntry(_ name: String) -> UserEntry? { lock.withLock { configured[name]?.entry } }

    var listed: [(entry: UserEntry, source: String)] {
        lock.withLock { configured.values.sorted { $0.entry.name < $1.entry.name } }
    }

    func find(_ name: String, on loop: EventLoop) -> EventLoopFuture<UserEntry?> {
        if let entry = lock.withLock({ configured[name]?.entry }) { return loop.makeSucceededFuture(entry) }
        guard let lookupUser else { return loop.makeSucceededFuture(nil) }
        if let cached = lock.withLock({ cache[name] }), cached.expires > .now() {
            return loop.makeSucceededFuture(cached.entry)
        }
        return lookUp(name, as: lookupUser, on: lookupTargets()[...], loop: loop)
            .map { entry in
                self.lock.withLock { self.cache[name] = (entry, .now() + Self.cacheLifetime) }
                return entry
            }
    }

    /// Asks the first target; if it cannot answer (down, refused), the next one.
    private func lookUp(_ name: String, as lookupUser: String, on targets: ArraySlice<HostPort>,
                        loop: EventLoop) -> EventLoopFuture<UserEntry?> {
        guard let target = targets.first else { return loop.makeFailedFuture(NoLookupBackend()) }
        let sql = "SELECT IF(authentication_string = '', Password, authentication_string) FROM mysql.user "
            + "WHERE User = '\(Self.escape(name))' AND plugin IN ('mysql_native_password', '') "
            + "ORDER BY Host = '%' DESC LIMIT 1"
        return connector.connect(id: ConnectionID(0), backend: BackendID(target.description), address: target,
                                 user: lookupUser, credential: lookupCredential, database: nil, on: loop)
            .flatMap { connection in
                connection.query(sql, collect: true).always { _ in connection.quit() }
            }
            .flatMapThrowing { result -> UserEntry? in
                try BackendConnection.requireOK(result)
                guard let hashText = Self.firstValue(result.packets) else { return nil }
                let hash: [UInt8]
                if hashText.isEmpty { hash = [] } else {
                    guard let parsed = NativePassword.storedHash(fromHashString: hashText) else { return nil }
                    hash = parsed
                }
                return UserEntry(name: name, storedHash: hash)
            }
            .flatMapError { error in
                guard targets.count > 1 else { return loop.makeFailedFuture(error) }
                return self.lookUp(name, as: lookupUser, on: targets.dropFirst(), loop: loop)
            }
    }

    /// The first column of the first row of a text result set: the packets are the column
    /// count, one column definition, EOF, the rows, EOF.
    private static func firstValue(_ packets: [MySQLPacket]) -> String? {
        guard packets.count >= 5 else { return nil }
        var row = packets[3].payload
        guard let decoded = try? TextRow(from: &row, columnCount: 1), let value = decoded.values.first ?? nil else { return nil }
        return String(buffer: value)
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''")
    }
}

struct NoLookupBackend: Error, CustomStringConvertible {
    var description: String { "no backend to look users up on" }
}

import Foundation
