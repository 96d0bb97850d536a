/// Connections by state in some scope.
public struct ConnectionCounts: Sendable, Equatable {
    public var connecting = 0
    public var idle = 0
    public var leased = 0
    public var resetting = 0
    public var closing = 0

    public init() {}

    /// Every connection that occupies a slot (all states).
    public var total: Int { connecting + idle + leased + resetting + closing }

    public subscript(state: ConnectionState) -> Int {
        get {
            switch state {
            case .connecting: return connecting
            case .idle: return idle
            case .leased: return leased
            case .resetting: return resetting
            case .closing: return closing
            }
        }
        set {
            switch state {
            case .connecting: connecting = newValue
            case .idle: idle = newValue
            case .leased: leased = newValue
            case .resetting: resetting = newValue
            case .closing: closing = newValue
            }
        }
    }
}

/// Monotonic counters of connection events in some scope.
public struct ConnectionCounters: Sendable, Equatable {
    public var handOvers = 0
    public var connectsStarted = 0
    public var connectsSucceeded = 0
    public var connectsFailed = 0
    public var resets = 0
    public var resetFailures = 0
    public var closes: [CloseReason: Int] = [:]

    public init() {}
}

/// Monotonic counters of requests (backlog) in some scope.
public struct RequestCounters: Sendable, Equatable {
    /// Handed a connection without waiting.
    public var servedImmediately = 0
    /// Handed a connection after waiting in the backlog.
    public var servedAfterWait = 0
    /// Put into the backlog.
    public var queued = 0
    public var timeouts = 0
    /// Refused because the backlog was full.
    public var refusals = 0
    public var noBackend = 0
    public var connectFailures = 0
    public var cancels = 0
    /// Sum of backlog waits of served requests.
    public var totalWait = PoolDuration.zero
    /// The longest the backlog has been in this scope.
    public var maxWaitingSeen = 0

    public init() {}
}

public struct PoolKeyStatistics: Sendable, Equatable {
    public var key: PoolKey
    public var connections: ConnectionCounts
    public var counters: ConnectionCounters
    /// Requests of this user waiting whose first choice is this backend.
    public var waiting: Int
}

public struct BackendStatistics: Sendable, Equatable {
    public var id: BackendID
    public var configuration: BackendConfiguration
    /// Removed by `removeBackend`, still closing connections.
    public var isRemoving: Bool
    public var connections: ConnectionCounts
    public var counters: ConnectionCounters
    /// Requests waiting whose first choice is this backend.
    public var waiting: Int
}

public struct UserStatistics: Sendable, Equatable {
    public var user: String
    public var connections: ConnectionCounts
    public var waiting: Int
    public var requests: RequestCounters
}

public struct DatabaseStatistics: Sendable, Equatable {
    public var database: String
    public var inUse: Int
    public var waiting: Int
}

/// A consistent picture of the whole pool (sorted by name for stable output).
public struct PoolSnapshot: Sendable, Equatable {
    public var connections: ConnectionCounts
    public var waiting: Int
    public var requests: RequestCounters
    public var backends: [BackendStatistics]
    public var pools: [PoolKeyStatistics]
    public var users: [UserStatistics]
    public var databases: [DatabaseStatistics]
}
