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
                for session in runtime.clients.all.sorted(by: { $0.id < $1.id }) {
                    let s = session.snapshot.current
                    let age = s.queryStarted.map { UInt64(max((now - $0).nanoseconds / 1000, 0)) } ?? 0
                    s.user.withCString { u in s.address.withCString { a in s.database.withCString { d in
                        s.state.withCString { st in s.pinned.withCString { p in s.backend.withCString { b in
                            s.query.withCString { q in
                                var info = chassis_funnel_client_info(
                                    size: UInt32(MemoryLayout<chassis_funnel_client_info>.size), id: session.id, user: u,
                                    address: a, database: d, state: st, pinned: p, backend: b, current_query: q,
                                    query_age_us: age, backend_thread_id: s.backendThreadID)
                                fn(&info, user)
                            }
                        } } }
                    } } }
                }
            },
            kill: { instance, id in
                guard let runtime = ServiceInstance.from(instance).runtime,
                      let session = runtime.clients.all.first(where: { $0.id == id }) else { return Int32(CHASSIS_ERR_NOT_FOUND) }
                session.closeFromServer()
                return Int32(CHASSIS_OK)
            }))
        return UnsafePointer(table)
    }()
}
