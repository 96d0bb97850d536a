import CChassis
import Pooling

/// A backend's figures as the C struct of chassis_funnel.h, valid during `body`.
enum BackendInfo {
    static func with(_ b: BackendState, statistics: BackendStatistics?, _ body: (UnsafePointer<chassis_funnel_backend_info>) -> Void) {
        let c = statistics?.connections ?? ConnectionCounts()
        b.id.name.withCString { address in
            var info = chassis_funnel_backend_info(
                size: UInt32(MemoryLayout<chassis_funnel_backend_info>.size), address: address,
                role: b.role.code, state: b.health.code, weight: UInt32(clamping: b.weight),
                max_connections: UInt32(clamping: b.maxConnections),
                open: UInt32(c.total), idle: UInt32(c.idle), in_use: UInt32(c.leased), connecting: UInt32(c.connecting),
                in_flight: UInt32(clamping: b.inFlight.load(ordering: .relaxed)),
                consecutive_failures: UInt32(clamping: b.consecutiveFailures.load(ordering: .relaxed)),
                queries: b.queries.load(ordering: .relaxed), errors: b.errors.load(ordering: .relaxed),
                connects_ok: UInt64(statistics?.counters.connectsSucceeded ?? 0),
                connects_failed: UInt64(statistics?.counters.connectsFailed ?? 0),
                latency_p50_us: b.latency.quantile(0.5), latency_p99_us: b.latency.quantile(0.99),
                last_check_us: b.lastCheckMicros.load(ordering: .relaxed))
            body(&info)
        }
    }
}
