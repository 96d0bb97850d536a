import Atomics
import CChassis
import NIOConcurrencyHelpers
import PluginKit
import Pooling

/// The role a backend plays in read/write splitting.
enum BackendRole: String, Sendable {
    case readWrite = "rw"
    case readOnly = "ro"

    init?(text: String) {
        switch text.lowercased() {
        case "rw", "read-write", "readwrite", "primary": self = .readWrite
        case "ro", "read-only", "readonly", "replica": self = .readOnly
        default: return nil
        }
    }

    var code: UInt32 { self == .readWrite ? UInt32(CHASSIS_FUNNEL_ROLE_READ_WRITE.rawValue) : UInt32(CHASSIS_FUNNEL_ROLE_READ_ONLY.rawValue) }

    init?(code: UInt32) {
        switch code {
        case UInt32(CHASSIS_FUNNEL_ROLE_READ_WRITE.rawValue): self = .readWrite
        case UInt32(CHASSIS_FUNNEL_ROLE_READ_ONLY.rawValue): self = .readOnly
        default: return nil
        }
    }
}

/// Where a backend is in its life. Only UP takes new work.
enum BackendHealth: String, Sendable {
    case up = "UP"
    case down = "DOWN"
    case draining = "DRAINING"
    case maintenance = "MAINTENANCE"

    var code: UInt32 {
        switch self {
        case .up: return UInt32(CHASSIS_FUNNEL_BACKEND_UP.rawValue)
        case .down: return UInt32(CHASSIS_FUNNEL_BACKEND_DOWN.rawValue)
        case .draining: return UInt32(CHASSIS_FUNNEL_BACKEND_DRAINING.rawValue)
        case .maintenance: return UInt32(CHASSIS_FUNNEL_BACKEND_MAINTENANCE.rawValue)
        }
    }
}

/// One backend's settings and live figures. Counters are atomics: they are bumped on every
/// query from every event loop.
final class BackendState: @unchecked Sendable {
    let id: BackendID
    /// `[id]`, built once: the single-backend setup hands it to the pool on every acquisition.
    let aloneAsCandidates: [BackendID]
    let address: HostPort
    private let lock = NIOLock()
    private var _role: BackendRole
    private var _weight: Int
    private var _maxConnections: Int
    private var _health: BackendHealth = .up

    let inFlight = ManagedAtomic<Int>(0)
    let queries = ManagedAtomic<UInt64>(0)
    let errors = ManagedAtomic<UInt64>(0)
    let consecutiveFailures = ManagedAtomic<Int>(0)
    let lastCheckMicros = ManagedAtomic<UInt64>(0)
    let bytesSent = ManagedAtomic<UInt64>(0)
    let bytesReceived = ManagedAtomic<UInt64>(0)
    let latency = LatencyHistogram()

    /// The stats plugin's series for this backend (nil without stats); set before any traffic.
    struct Metrics {
        var query: StatsClient.Series?
        var connect: StatsClient.Series?
        var check: StatsClient.Series?
    }
    var metrics: Metrics?
    /// Smooth weighted round robin's running score (guarded by the registry's lock).
    var currentWeight = 0

    init(address: HostPort, role: BackendRole, weight: Int, maxConnections: Int) {
        self.id = BackendID(address.description)
        aloneAsCandidates = [id]
        self.address = address
        _role = role
        _weight = weight
        _maxConnections = maxConnections
    }

    var role: BackendRole {
        get { lock.withLock { _role } }
        set { lock.withLock { _role = newValue } }
    }
    var weight: Int {
        get { lock.withLock { _weight } }
        set { lock.withLock { _weight = newValue } }
    }
    var maxConnections: Int {
        get { lock.withLock { _maxConnections } }
        set { lock.withLock { _maxConnections = newValue } }
    }
    var health: BackendHealth {
        get { lock.withLock { _health } }
        set { lock.withLock { _health = newValue } }
    }

    /// UP, and of the role asked for (a read-only request may use a read-write backend): one
    /// lock, not one per property, on every acquisition.
    func takes(_ role: BackendRole) -> Bool {
        lock.withLock { _health == .up && (_role == role || role == .readOnly) }
    }

    /// Swaps the state, returning the old one (nil when unchanged).
    func transition(to new: BackendHealth) -> BackendHealth? {
        lock.withLock {
            guard _health != new else { return nil }
            defer { _health = new }
            return _health
        }
    }

    func recordQuery(nanoseconds: UInt64, failed: Bool) {
        queries.wrappingIncrement(ordering: .relaxed)
        if failed { errors.wrappingIncrement(ordering: .relaxed) }
        latency.record(nanoseconds: nanoseconds)
        metrics?.query?.record(nanoseconds: nanoseconds)
    }
}
