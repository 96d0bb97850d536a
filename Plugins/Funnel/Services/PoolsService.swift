import CChassis
import Foundation

/// "funnel.pools": the pools and the totals, for stats, admin and any other plugin.
enum PoolsService {
    static let table: UnsafePointer<chassis_funnel_pools_service> = {
        let table = UnsafeMutablePointer<chassis_funnel_pools_service>.allocate(capacity: 1)
        table.initialize(to: chassis_funnel_pools_service(
            size: UInt32(MemoryLayout<chassis_funnel_pools_service>.size),
            list: { instance, fn, user in
                guard let runtime = ServiceInstance.from(instance).runtime else { return }
                for pool in runtime.coordinator.snapshot().pools {
                    pool.key.backend.name.withCString { backend in
                        pool.key.user.withCString { name in
                            let c = pool.connections
                            var info = chassis_funnel_pool_info(
                                size: UInt32(MemoryLayout<chassis_funnel_pool_info>.size), backend: backend, user: name,
                                open: UInt32(c.total), idle: UInt32(c.idle), in_use: UInt32(c.leased),
                                connecting: UInt32(c.connecting), waiting: UInt32(pool.waiting),
                                hand_overs: UInt64(pool.counters.handOvers), connects_ok: UInt64(pool.counters.connectsSucceeded),
                                connects_failed: UInt64(pool.counters.connectsFailed), resets: UInt64(pool.counters.resets))
                            fn(&info, user)
                        }
                    }
                }
            },
            totals: { instance, out in
                let limit = Int(out.pointee.size)
                var totals = chassis_funnel_totals()
                totals.size = UInt32(MemoryLayout<chassis_funnel_totals>.size)
                if let runtime = ServiceInstance.from(instance).runtime {
                    let snapshot = runtime.coordinator.snapshot()
                    let clients = runtime.coordinator.clientCounts()
                    totals.clients = UInt32(clients.total)
                    totals.clients_admitted = UInt64(clients.admitted)
                    totals.clients_refused = UInt64(clients.refused)
                    totals.backend_connections = UInt32(snapshot.connections.total)
                    totals.waiting = UInt32(snapshot.waiting)
                    totals.served_immediately = UInt64(snapshot.requests.servedImmediately)
                    totals.served_after_wait = UInt64(snapshot.requests.servedAfterWait)
                    totals.backlog_timeouts = UInt64(snapshot.requests.timeouts)
                    totals.backlog_refusals = UInt64(snapshot.requests.refusals)
                    totals.total_wait_ns = snapshot.requests.totalWait.nanoseconds
                    totals.max_waiting_seen = UInt32(snapshot.requests.maxWaitingSeen)
                }
                // Copy only what the caller's struct (maybe an older, shorter one) has room for.
                withUnsafeBytes(of: &totals) { bytes in
                    UnsafeMutableRawPointer(out).copyMemory(from: bytes.baseAddress!, byteCount: min(limit, bytes.count))
                }
                out.pointee.size = UInt32(min(limit, MemoryLayout<chassis_funnel_totals>.size))
            }))
        return UnsafePointer(table)
    }()
}
