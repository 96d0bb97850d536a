/// A backend server, named by the caller (e.g. "db1:3306").
public struct BackendID: Hashable, Sendable, Comparable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let name: String
    /// The name's hash, computed once: backends are looked up by ID on every acquisition, and
    /// hashing an Int costs less than hashing the string again.
    private let nameHash: Int
    public init(_ name: String) {
        self.name = name
        nameHash = name.hashValue
    }
    public init(stringLiteral value: String) { self.init(value) }
    public static func == (lhs: BackendID, rhs: BackendID) -> Bool { lhs.nameHash == rhs.nameHash && lhs.name == rhs.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(nameHash) }
    /// What dictionaries hash: the name's hash, folded with the seed (see `foldedHash`).
    public func _rawHashValue(seed: Int) -> Int { foldedHash(UInt64(UInt(bitPattern: nameHash)), seed: seed) }
    public static func < (lhs: BackendID, rhs: BackendID) -> Bool { lhs.name < rhs.name }
    public var description: String { name }
}

/// A backend connection, numbered by the pool (it is announced in a `.connect` action).
public struct ConnectionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: ConnectionID, rhs: ConnectionID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "conn#\(rawValue)" }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public func _rawHashValue(seed: Int) -> Int { foldedHash(rawValue, seed: seed) }
}

/// A client's request for a connection, numbered by the caller; unique among waiting requests.
public struct RequestID: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }
    public var description: String { "req#\(rawValue)" }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public func _rawHashValue(seed: Int) -> Int { foldedHash(rawValue, seed: seed) }
}

/// What dictionaries keyed by a pool identifier hash. Backends, connections and requests are
/// looked up several times per statement (seven times for a request that waits), and SipHash
/// costs about 200 instructions for one word. No client chooses these values (connection and
/// request numbers are sequences, a backend's name hash is SipHash of a name the operator gave),
/// so a seeded multiply-and-fold spreads them well enough.
func foldedHash(_ value: UInt64, seed: Int) -> Int {
    var h = (value ^ UInt64(UInt(bitPattern: seed))) &* 0x9E37_79B9_7F4A_7C15
    h ^= h >> 29
    return Int(truncatingIfNeeded: h)
}

/// A backend connection is logged in as one user, so connections are pooled per (backend, user).
public struct PoolKey: Hashable, Sendable, CustomStringConvertible {
    public let backend: BackendID
    public let user: String
    public init(backend: BackendID, user: String) {
        self.backend = backend
        self.user = user
    }
    public var description: String { "\(user)@\(backend)" }
}

/// Which backends may serve a request, in order of preference.
/// The load balancer lives outside the pool; it hands the pool its ranking.
public enum BackendSelection: Hashable, Sendable, ExpressibleByArrayLiteral {
    /// These backends, first one preferred. Unknown or draining ones are skipped (a backend added
    /// later under a listed name can still serve the waiting request).
    case ordered([BackendID])
    /// Like `ordered`, but the first backend wins whenever it can serve at once (an idle
    /// connection, or room to open one), even if another candidate has an idle connection:
    /// what a load balancer's choice needs. The rest are fall-backs when it cannot.
    case preferred([BackendID])
    /// Any backend accepting new connections, in the order they were added.
    case any

    public init(arrayLiteral elements: BackendID...) { self = .ordered(elements) }
}
