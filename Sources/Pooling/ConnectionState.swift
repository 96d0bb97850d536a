/// The life of a backend connection. Moves happen only through `isValidMove(from:to:)`
/// (`nil` stands for "not in the pool": before it is opened and after it is removed):
///
///     nil -> connecting -> idle <-> leased -> resetting -> idle
///                |          |         |          |
///              (nil)     closing <----+----------+
///                           |
///                         (nil)
public enum ConnectionState: String, Hashable, Sendable, CaseIterable {
    /// A `.connect` action was emitted; waiting for `connectionEstablished` or `connectionFailed`.
    case connecting
    /// Open and free; may be handed over.
    case idle
    /// Handed over to a client.
    case leased
    /// A `.reset` action was emitted; waiting for `resetCompleted`.
    case resetting
    /// A `.close` action was emitted; still counts against limits until `connectionClosed`.
    case closing

    /// The one table of legal moves (PgBouncer-style: a connection is always on exactly one list).
    public static func isValidMove(from: ConnectionState?, to: ConnectionState?) -> Bool {
        switch (from, to) {
        case (nil, .connecting?): return true
        case (.connecting?, .idle?), (.connecting?, nil): return true
        case (.idle?, .leased?), (.idle?, .closing?): return true
        case (.leased?, .idle?), (.leased?, .resetting?), (.leased?, .closing?): return true
        case (.resetting?, .idle?), (.resetting?, .closing?): return true
        case (.closing?, nil): return true
        default: return false
        }
    }
}

/// How a client gives a leased connection back.
public enum ReleaseDisposition: Hashable, Sendable {
    /// Session state is clean: reuse as is.
    case clean
    /// Session state may be dirty: the pool emits `.reset(conn)`; answer with `resetCompleted`.
    case needsReset
    /// State unknown (client vanished mid-transaction, protocol error): close, never hand it on.
    case close
}

/// Why the pool asks for a connection to be closed (also the key of the close counters).
public enum CloseReason: String, Hashable, Sendable, CaseIterable {
    /// Released with `.close`.
    case discarded
    /// `resetCompleted(ok: false)`.
    case resetFailed
    /// Idle longer than `idleTimeout`.
    case idleTimeout
    /// Older than `maxLifetime` (closed when idle or on release).
    case maxLifetime
    /// Its backend is draining or being removed.
    case backendUnavailable
    /// Idle, while another user waits for a slot it occupies (fairness across users beats reuse).
    case rebalance
    /// A limit was lowered below the current number of connections.
    case overLimit
    /// Reported dead by the caller (`connectionLost`); no `.close` action is emitted for it.
    case lost
}
