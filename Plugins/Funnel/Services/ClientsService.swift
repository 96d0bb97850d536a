import CChassis
import NIOCore

/// "funnel.clients": every connected client, and KILL.
enum ClientsService {
    static let table: UnsafePointer<chassis_funnel_clients_service> = {
        let table = UnsafeMutablePointer<chassis_funnel_clients_service>.allocate(capacity: 1)
        table.initialize(to: chassis_funnel_clients_service(
            size: UInt32(MemoryLayout<chassis_funnel_clients_service>.size),
            list: { instance, fn, user in
                guard let runtime = ServiceInstance.from(instance).runtime else { return }
                let now = NIODeadline.now()
                var rows = runtime.clients.all.map { ($0.id, $0.snapshot.current) }
                rows += (runtime.parking?.all ?? []).map { ($0.id, $0.snapshot) }
                for (id, s) in rows.sorted(by: { $0.0 < $1.0 }) {
                    let age = s.queryStarted.map { UInt64(max((now - $0).nanoseconds / 1000, 0)) } ?? 0
                    s.user.withCString { u in s.address.withCString { a in s.database.withCString { d in
                        s.state.withCString { st in s.pinned.withCString { p in s.backend.withCString { b in
                            s.query.withCString { q in
                                var info = chassis_funnel_client_info(
                                    size: UInt32(MemoryLayout<chassis_funnel_client_info>.size), id: id, user: u,
                                    address: a, database: d, state: st, pinned: p, backend: b, current_query: q,
                                    query_age_us: age, backend_thread_id: s.backendThreadID)
                                fn(&info, user)
                            }
                        } } }
                    } } }
                }
            },
            kill: { instance, id in
                guard let runtime = ServiceInstance.from(instance).runtime, runtime.kill(client: id) else {
                    return Int32(CHASSIS_ERR_NOT_FOUND)
                }
                return Int32(CHASSIS_OK)
            }))
        return UnsafePointer(table)
    }()
}
