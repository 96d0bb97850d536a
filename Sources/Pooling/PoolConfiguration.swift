/// Pool-wide limits and timers. Every limit is optional (nil = unlimited) except the wait
/// timeout: nothing waits forever.
public struct PoolConfiguration: Sendable, Equatable {
    /// Backend connections in total (all states but removed), across all backends.
    public var maxConnections: Int?
    /// Backend connections logged in as one user, across backends (default for every user).
    public var maxConnectionsPerUser: Int?
    /// Per-user overrides of `maxConnectionsPerUser`.
    public var userConnectionLimits: [String: Int]
    /// Connections in use (leased) by clients whose database is D (default for every database).
    public var maxInUsePerDatabase: Int?
    /// Per-database overrides of `maxInUsePerDatabase`.
    public var databaseInUseLimits: [String: Int]
    /// Backlog length (waiting requests, including those whose connection is being opened).
    public var maxWaiting: Int?
    /// Backlog length per user.
    public var maxWaitingPerUser: Int?
    /// Default deadline of a waiting request (acquire may pass its own).
    public var waitTimeout: PoolDuration
    /// Close connections idle longer than this (never below the pool's min idle).
    public var idleTimeout: PoolDuration?
    /// Close connections older than this when idle or on release.
    public var maxLifetime: PoolDuration?
    /// Idle connections kept open per (backend, user) pool that has been used or warmed.
    public var minIdlePerPool: Int
    /// A lease of a connection idle at least this long says `needsPing: true`.
    public var pingAfterIdle: PoolDuration?
    /// How long a slot stays with a user before it may be taken for another (rule 4). Another
    /// user's connection is closed to make room only once it has been open this long, and, unless
    /// its user holds more than its share, idle this long too. Each move is a login on the
    /// server: without a hold, a user with a trickle of requests and one with a flood trade a
    /// slot back and forth on every request. Zero: move at once.
    public var rebalanceHold: PoolDuration

    public init(
        maxConnections: Int? = nil,
        maxConnectionsPerUser: Int? = nil,
        userConnectionLimits: [String: Int] = [:],
        maxInUsePerDatabase: Int? = nil,
        databaseInUseLimits: [String: Int] = [:],
        maxWaiting: Int? = nil,
        maxWaitingPerUser: Int? = nil,
        waitTimeout: PoolDuration = .seconds(10),
        idleTimeout: PoolDuration? = nil,
        maxLifetime: PoolDuration? = nil,
        minIdlePerPool: Int = 0,
        pingAfterIdle: PoolDuration? = nil,
        rebalanceHold: PoolDuration = .milliseconds(100)
    ) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerUser = maxConnectionsPerUser
        self.userConnectionLimits = userConnectionLimits
        self.maxInUsePerDatabase = maxInUsePerDatabase
        self.databaseInUseLimits = databaseInUseLimits
        self.maxWaiting = maxWaiting
        self.maxWaitingPerUser = maxWaitingPerUser
        self.waitTimeout = waitTimeout
        self.idleTimeout = idleTimeout
        self.maxLifetime = maxLifetime
        self.minIdlePerPool = minIdlePerPool
        self.pingAfterIdle = pingAfterIdle
        self.rebalanceHold = rebalanceHold
    }

    func userLimit(_ user: String) -> Int? { userConnectionLimits[user] ?? maxConnectionsPerUser }

    func databaseLimit(_ database: String) -> Int? { databaseInUseLimits[database] ?? maxInUsePerDatabase }

    var hasDatabaseLimits: Bool { maxInUsePerDatabase != nil || !databaseInUseLimits.isEmpty }
}

/// One backend server as the pool sees it.
public struct BackendConfiguration: Sendable, Equatable {
    /// Open + opening + closing connections to this backend never exceed this.
    public var maxConnections: Int
    /// False while draining or down: no new connections, no new hand-outs; leased ones finish
    /// and are closed on release.
    public var acceptingNew: Bool
    /// Overrides `PoolConfiguration.minIdlePerPool` for pools on this backend.
    public var minIdlePerUser: Int?
    /// Users whose pools on this backend exist from the start (so min idle warms them up).
    public var warmUsers: [String]

    public init(maxConnections: Int, acceptingNew: Bool = true, minIdlePerUser: Int? = nil, warmUsers: [String] = []) {
        self.maxConnections = maxConnections
        self.acceptingNew = acceptingNew
        self.minIdlePerUser = minIdlePerUser
        self.warmUsers = warmUsers
    }
}
