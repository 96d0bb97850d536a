import NIOConcurrencyHelpers
import NIOCore
import PluginKit
import Pooling

/// What the funnel publishes through the stats service, when the stats plugin is loaded.
/// Hot-path figures (query and connect latency, wait time, pins) are recorded as they happen,
/// through series resolved once per backend or user; the pool's sizes and counters are read
/// by a collector at scrape time only. Without stats this object does not exist and the
/// funnel's hot path pays a nil check.
final class FunnelMetrics: @unchecked Sendable {
    private let stats: StatsClient
    private let queryDuration: StatsClient.Metric?
    private let connectDuration: StatsClient.Metric?
    private let checkDuration: StatsClient.Metric?
    private let waitDuration: StatsClient.Metric?
    private let userQueryDuration: StatsClient.Metric?
    private let pins: StatsClient.Metric?
    private let lock = NIOLock()
    private var userSeries: [String: UserSeries] = [:]
    private var pinSeries: [PinReason: StatsClient.Series] = [:]
    private var collector: UInt64 = 0
    let digests: Bool

    init?(context: PluginContext, digests: Bool) {
        guard let stats = StatsClient(context: context) else { return nil }
        self.stats = stats
        self.digests = digests
        queryDuration = stats.metric(.histogram, "funnel_backend_query_duration", help: "Query time through the funnel, per backend.", labels: ["backend"])
        connectDuration = stats.metric(.histogram, "funnel_backend_connect_duration", help: "Time to open and log in a backend connection.", labels: ["backend"])
        checkDuration = stats.metric(.histogram, "funnel_backend_health_check_duration", help: "Health check time, per backend.", labels: ["backend"])
        waitDuration = stats.metric(.histogram, "funnel_backlog_wait_duration", help: "Time a request waited in the backlog for a backend connection.", labels: ["user"])
        userQueryDuration = stats.metric(.histogram, "funnel_user_query_duration", help: "Time from reading a user's command to the end of its response (backlog wait included).", labels: ["user"])
        pins = stats.metric(.counter, "funnel_client_pins", help: "Clients pinned to their backend connection, by cause.", labels: ["reason"])
    }

    /// Resolves a backend's series once; BackendState keeps them.
    func attach(_ backend: BackendState) {
        backend.metrics = BackendState.Metrics(query: queryDuration?.series([backend.id.name]),
                                               connect: connectDuration?.series([backend.id.name]),
                                               check: checkDuration?.series([backend.id.name]))
    }

    /// A user's histograms: the backlog wait, and the whole command as the funnel saw it.
    struct UserSeries {
        let wait: StatsClient.Series?
        let query: StatsClient.Series?
    }

    /// The user's series (sessions keep them: a lookup per statement is too much).
    func userSeries(user: String) -> UserSeries {
        lock.withLock {
            if let s = userSeries[user] { return s }
            let s = UserSeries(wait: waitDuration?.series([user]), query: userQueryDuration?.series([user]))
            userSeries[user] = s
            return s
        }
    }

    func pinned(_ reason: PinReason) {
        let series = lock.withLock { () -> StatsClient.Series? in
            if let s = pinSeries[reason] { return s }
            let s = pins?.series([reason.rawValue])
            pinSeries[reason] = s
            return s
        }
        series?.add(1)
    }

    func digestScope(user: String, database: String?) -> StatsClient.DigestScope? {
        stats.digestScope(user: user, database: database ?? "")
    }

    /// `payload`: a COM_QUERY packet's payload (the command byte, then the SQL). A session with a
    /// digest scope (see `digestScope`) records through it instead, without the strings.
    func recordQuery(_ payload: UnsafeRawBufferPointer, user: String, database: String?,
                     nanoseconds: UInt64, rowsSent: UInt64, rowsAffected: UInt64, failed: Bool) {
        guard let sql = Self.sql(payload) else { return }
        stats.recordQuery(sql, user: user, database: database ?? "", nanoseconds: nanoseconds, rowsSent: rowsSent,
                          rowsAffected: rowsAffected, failed: failed)
    }

    /// The statement's text in a COM_QUERY payload.
    @inline(__always)
    static func sql(_ payload: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard payload.count > 1, let base = payload.baseAddress else { return nil }
        return UnsafeRawBufferPointer(start: base + 1, count: payload.count - 1)
    }

    /// The pool's figures, read at each scrape. The collector holds the runtime until
    /// `stopCollecting` (not weakly: see `FunnelRuntime.startParking`).
    func startCollecting(_ runtime: FunnelRuntime) {
        collector = stats.addCollector { emit in
            let snapshot = runtime.coordinator.snapshot()
            let byBackend = Dictionary(snapshot.backends.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for backend in runtime.registry.all {
                let l = [("backend", backend.id.name)]
                let c = byBackend[backend.id]
                emit.gauge("funnel_backend_up", help: "1 when the backend is UP (takes new work).", labels: l, backend.health == .up ? 1 : 0)
                emit.gauge("funnel_backend_state", help: "Backend state: 1 UP, 2 DOWN, 3 DRAINING, 4 MAINTENANCE.", labels: l, Double(backend.health.code))
                emit.gauge("funnel_backend_weight", help: "Balancing weight.", labels: l, Double(backend.weight))
                emit.gauge("funnel_backend_connections_open", help: "Backend connections open (all states).", labels: l, Double(c?.connections.total ?? 0))
                emit.gauge("funnel_backend_connections_in_use", help: "Backend connections handed to clients.", labels: l, Double(c?.connections.leased ?? 0))
                emit.gauge("funnel_backend_connections_idle", help: "Backend connections idle in the pool.", labels: l, Double(c?.connections.idle ?? 0))
                emit.gauge("funnel_backend_queries_in_flight", help: "Queries sent and not yet answered.", labels: l, Double(backend.inFlight.load(ordering: .relaxed)))
                emit.counter("funnel_backend_queries", help: "Queries answered.", labels: l, Double(backend.queries.load(ordering: .relaxed)))
                emit.counter("funnel_backend_query_errors", help: "Queries answered with an error.", labels: l, Double(backend.errors.load(ordering: .relaxed)))
                emit.counter("funnel_backend_connects", help: "Backend connections opened.", labels: l, Double(c?.counters.connectsSucceeded ?? 0))
                emit.counter("funnel_backend_connect_failures", help: "Backend connections that failed to open.", labels: l, Double(c?.counters.connectsFailed ?? 0))
                for reason in CloseReason.allCases {
                    emit.counter("funnel_backend_closes", help: "Backend connections closed, by reason (rebalance: for another user's request).",
                                 labels: l + [("reason", reason.metricLabel)], Double(c?.counters.closes[reason] ?? 0))
                }
                emit.counter("funnel_backend_sent_bytes", help: "Bytes the funnel sent to the backend.", labels: l, Double(backend.bytesSent.load(ordering: .relaxed)))
                emit.counter("funnel_backend_received_bytes", help: "Bytes the funnel received from the backend.", labels: l, Double(backend.bytesReceived.load(ordering: .relaxed)))
            }
            for pool in snapshot.pools {
                let l = [("backend", pool.key.backend.name), ("user", pool.key.user)]
                emit.gauge("funnel_pool_connections_in_use", help: "Connections of the pool (backend x user) in use.", labels: l, Double(pool.connections.leased))
                emit.gauge("funnel_pool_connections_idle", help: "Idle connections of the pool.", labels: l, Double(pool.connections.idle))
                emit.gauge("funnel_pool_waiting", help: "Requests waiting for the pool.", labels: l, Double(pool.waiting))
                emit.counter("funnel_pool_hand_overs", help: "Connections handed to clients.", labels: l, Double(pool.counters.handOvers))
                emit.counter("funnel_pool_resets", help: "Connections reset before reuse.", labels: l, Double(pool.counters.resets))
            }
            for user in snapshot.users {
                let l = [("user", user.user)]
                emit.gauge("funnel_user_connections_in_use", help: "Backend connections in use by the user's clients.", labels: l, Double(user.connections.leased))
                emit.gauge("funnel_user_waiting", help: "The user's requests in the backlog.", labels: l, Double(user.waiting))
                emit.gauge("funnel_user_waiting_max", help: "Most of the user's requests seen waiting at once.", labels: l, Double(user.requests.maxWaitingSeen))
                emit.counter("funnel_user_backlog_timeouts", help: "Requests that waited past the backlog timeout.", labels: l, Double(user.requests.timeouts))
                emit.counter("funnel_user_backlog_refusals", help: "Requests refused because the backlog was full.", labels: l, Double(user.requests.refusals))
                emit.gauge("funnel_user_clients", help: "Connected clients of the user.", labels: l, Double(runtime.coordinator.clients(of: user.user)))
            }
            for db in snapshot.databases {
                let l = [("db", db.database)]
                emit.gauge("funnel_database_connections_in_use", help: "Backend connections in use for the database.", labels: l, Double(db.inUse))
                emit.gauge("funnel_database_waiting", help: "Requests for the database in the backlog.", labels: l, Double(db.waiting))
            }
            let clients = runtime.coordinator.clientCounts()
            emit.gauge("funnel_clients", help: "Client connections authenticated now.", Double(clients.total))
            emit.counter("funnel_clients_admitted", help: "Client connections admitted.", Double(clients.admitted))
            emit.counter("funnel_clients_refused", help: "Client connections refused by a connection limit.", Double(clients.refused))
            emit.gauge("funnel_backlog_waiting", help: "Requests in the backlog now.", Double(snapshot.waiting))
            if let parking = runtime.parking?.figures {
                emit.gauge("funnel_clients_parked", help: "Idle clients parked outside the event loops now.", Double(parking.parked))
                emit.counter("funnel_client_parks", help: "Times an idle client was parked.", Double(parking.parks))
                emit.counter("funnel_client_wakes", help: "Times a parked client woke up.", Double(parking.wakes))
            }
            emit.gauge("funnel_paused", help: "1 while PAUSEd.", runtime.coordinator.isPaused ? 1 : 0)
        }
    }

    func stopCollecting() {
        if collector != 0 { stats.removeCollector(collector) }
        collector = 0
    }
}

extension CloseReason {
    /// Prometheus label values are snake_case by custom.
    var metricLabel: String {
        switch self {
        case .discarded: "discarded"
        case .resetFailed: "reset_failed"
        case .idleTimeout: "idle_timeout"
        case .maxLifetime: "max_lifetime"
        case .backendUnavailable: "backend_unavailable"
        case .rebalance: "rebalance"
        case .overLimit: "over_limit"
        case .lost: "lost"
        }
    }
}
