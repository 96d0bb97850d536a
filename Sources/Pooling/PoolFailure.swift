/// Why a request got no connection (the proxy turns it into an ERR packet).
public enum PoolFailure: Sendable, Equatable, Error {
    /// The backlog is full; refused at once without waiting.
    case backlogFull(BacklogLimit, PoolPressure)
    /// Waited until its deadline.
    case timeout(waited: PoolDuration, PoolPressure)
    /// The connection opened for this request failed and nothing else could serve it at once.
    case connectFailed(backend: BackendID, user: String, message: String)
    /// None of the candidate backends exists and accepts new connections (at acquire, or because
    /// the backends it waited for were drained or removed).
    case noBackendAvailable
}

/// Which backlog limit refused a request.
public enum BacklogLimit: Sendable, Equatable {
    case global(max: Int)
    case user(String, max: Int)
}

/// A limit that keeps a request from being served now.
public enum PoolLimit: Sendable, Equatable {
    /// Connections in use for this client database.
    case database(String, max: Int)
    /// Backend connections of this user.
    case user(String, max: Int)
    /// Connections of this backend.
    case backend(BackendID, max: Int)
    /// Backend connections in total.
    case global(max: Int)
}

/// The numbers behind a refusal or timeout, measured in the scope of `limit`:
/// database: leases for that database and requests waiting for it; user: that user's backend
/// connections and waiting requests; backend: that backend's connections and the requests whose
/// first choice it is; global: all. With `limit == nil` (nothing full: the request was waiting
/// for a connection being opened, reset or closed) the scope is the pool `backend`/`user`
/// (its connections, the user's waiting requests).
public struct PoolPressure: Sendable, Equatable {
    public var limit: PoolLimit?
    /// The request's first available candidate backend, if any.
    public var backend: BackendID?
    public var user: String
    public var database: String?
    /// Connections leased in the scope.
    public var inUse: Int
    /// Connections counted in the scope (all states but removed; for a database: its leases).
    public var open: Int
    /// Requests waiting in the scope (for a refusal: not counting the refused one).
    public var waiting: Int

    public init(limit: PoolLimit?, backend: BackendID?, user: String, database: String?, inUse: Int, open: Int, waiting: Int) {
        self.limit = limit
        self.backend = backend
        self.user = user
        self.database = database
        self.inUse = inUse
        self.open = open
        self.waiting = waiting
    }
}

/// Misuse of the pool: an event that does not fit the current state. The pool is unchanged.
public enum PoolError: Error, Sendable, Equatable {
    case unknownConnection(ConnectionID)
    case invalidTransition(ConnectionID, from: ConnectionState?, to: ConnectionState?)
    case duplicateRequest(RequestID)
    case unknownBackend(BackendID)
    case backendExists(BackendID)
}
