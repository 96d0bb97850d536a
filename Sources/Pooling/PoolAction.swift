/// What the caller must do after an event. Run them in order.
public enum PoolAction: Sendable, Equatable {
    /// Give this connection to the request's client. Done waiting; `lease.waited` is its backlog time.
    case handOver(RequestID, Lease)
    /// Open a connection to `backend` logged in as `user`; then report `connectionEstablished`
    /// or `connectionFailed` (the caller owns the connect timeout).
    case connect(ConnectionID, backend: BackendID, user: String)
    /// Close this connection (send COM_QUIT); then report `connectionClosed`.
    case close(ConnectionID, CloseReason)
    /// Run COM_RESET_CONNECTION; then report `resetCompleted(ok:)`.
    case reset(ConnectionID)
    /// The request is over without a connection; tell the client why.
    case fail(RequestID, PoolFailure)
}

/// A connection handed to a client. Only what the requester does not know already (its user and
/// database are its own): a lease is copied several times on every hand-over, so it stays small.
public struct Lease: Sendable, Equatable {
    public var connection: ConnectionID
    public var backend: BackendID
    /// The connection's schema differs from the client's database: send COM_INIT_DB first.
    /// (The pool already records the database as the connection's schema; if INIT_DB fails,
    /// release with `.close` or pass the real schema to `release`.)
    public var needsSchemaChange: Bool
    /// The connection sat idle at least `pingAfterIdle`: ping it (COM_PING) before use; if that
    /// fails, release it with `.close` and acquire again.
    public var needsPing: Bool
    /// Time spent in the backlog (zero for an immediate hand-over): feed the wait histogram.
    public var waited: PoolDuration
    /// How many times this connection has been leased, this lease included.
    public var useCount: Int

    public init(connection: ConnectionID, backend: BackendID, needsSchemaChange: Bool, needsPing: Bool,
                waited: PoolDuration, useCount: Int) {
        self.connection = connection
        self.backend = backend
        self.needsSchemaChange = needsSchemaChange
        self.needsPing = needsPing
        self.waited = waited
        self.useCount = useCount
    }
}

/// The actions of one event: the first one is stored inline, so the common single-action
/// result (a hand-over on acquire) allocates nothing.
public struct PoolActions: RandomAccessCollection, Sendable, Equatable, CustomStringConvertible {
    private var head: PoolAction?
    private var tail: [PoolAction] = []
    /// Kept, not derived: testing `head` for nil copies the action (retaining its strings).
    private var size = 0

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { size }
    public subscript(position: Int) -> PoolAction { position == 0 ? head! : tail[position - 1] }

    mutating func append(_ action: PoolAction) {
        if size == 0 { head = action } else { tail.append(action) }
        size += 1
    }

    public var description: String { Array(self).description }
}
