import CChassis
import NIOCore
import Pooling

/// "funnel.backends": list, add, update, drain, maintenance, and policies (hooks).
enum BackendsService {
    static let table: UnsafePointer<chassis_funnel_backends_service> = {
        let table = UnsafeMutablePointer<chassis_funnel_backends_service>.allocate(capacity: 1)
        table.initialize(to: chassis_funnel_backends_service(
            size: UInt32(MemoryLayout<chassis_funnel_backends_service>.size),
            list: { instance, fn, user in
                guard let runtime = ServiceInstance.from(instance).runtime else { return }
                let statistics = runtime.coordinator.backendStatistics()
                for backend in runtime.registry.all {
                    BackendInfo.with(backend, statistics: statistics[backend.id]) { fn($0, user) }
                }
            },
            add: { instance, spec, err, size in
                guard let runtime = ServiceInstance.from(instance).runtime else { return failService("funnel is not running", err, size) }
                do {
                    let address = try HostPort(parsing: String(cString: spec.pointee.address), defaultHost: "127.0.0.1", allowSocket: true)
                    let role = spec.pointee.role == 0 ? .readWrite : BackendRole(code: spec.pointee.role)
                    guard let role else { return failService("role must be rw or ro", err, size) }
                    let max = spec.pointee.max_connections == 0 ? runtime.configuration.backendMaxConnections : Int(spec.pointee.max_connections)
                    try runtime.coordinator.addBackend(BackendState(address: address, role: role,
                                                                    weight: spec.pointee.weight == 0 ? 1 : Int(spec.pointee.weight),
                                                                    maxConnections: max))
                    runtime.log(.notice, "backend \(address) added (\(role.rawValue))")
                    return 0
                } catch {
                    return failService("\(error)", err, size)
                }
            },
            update: { instance, spec, err, size in
                guard let runtime = ServiceInstance.from(instance).runtime else { return failService("funnel is not running", err, size) }
                guard let backend = find(runtime, spec.pointee.address, err, size) else { return 1 }
                if spec.pointee.role != 0 {
                    guard let role = BackendRole(code: spec.pointee.role) else { return failService("role must be rw or ro", err, size) }
                    if role == .readOnly, backend.role == .readWrite,
                       !runtime.registry.all.contains(where: { $0 !== backend && $0.role == .readWrite && $0.health == .up }) {
                        return failService("refused: \(backend.id) is the last read-write backend that is up", err, size)
                    }
                    backend.role = role
                }
                if spec.pointee.weight != 0 { backend.weight = Int(spec.pointee.weight) }
                if spec.pointee.max_connections != 0 {
                    backend.maxConnections = Int(spec.pointee.max_connections)
                    runtime.coordinator.updateLimit(backend)
                }
                return 0
            },
            drain: { instance, address, timeoutMs, err, size in
                guard let runtime = ServiceInstance.from(instance).runtime else { return failService("funnel is not running", err, size) }
                guard let backend = find(runtime, address, err, size) else { return 1 }
                if backend.role == .readWrite,
                   !runtime.registry.all.contains(where: { $0 !== backend && $0.role == .readWrite && $0.health == .up }),
                   runtime.coordinator.snapshot().waiting > 0 {
                    return failService("refused: \(backend.id) is the last read-write backend and requests are waiting for it", err, size)
                }
                let seconds = timeoutMs == 0 ? runtime.configuration.drainTimeout : Double(timeoutMs) / 1000
                runtime.coordinator.drain(backend, timeout: .nanoseconds(Int64(seconds * 1e9)))
                runtime.log(.notice, "backend \(backend.id) draining (timeout \(seconds) s)")
                return 0
            },
            set_state: { instance, address, state, err, size in
                guard let runtime = ServiceInstance.from(instance).runtime else { return failService("funnel is not running", err, size) }
                guard let backend = find(runtime, address, err, size) else { return 1 }
                switch state {
                case UInt32(CHASSIS_FUNNEL_BACKEND_UP.rawValue): runtime.coordinator.setHealth(backend, .up, reason: "operator")
                case UInt32(CHASSIS_FUNNEL_BACKEND_MAINTENANCE.rawValue): runtime.coordinator.setHealth(backend, .maintenance, reason: "operator")
                default: return failService("state must be UP or MAINTENANCE (DOWN and DRAINING are the funnel's own)", err, size)
                }
                return backend.health.code == state ? 0 : failService("\(backend.id) is \(backend.health.rawValue)", err, size)
            },
            add_policy: { instance, policy in
                let p = policy.pointee
                return ServiceInstance.from(instance).policies.add(.init(veto: p.veto_backend, cap: p.pool_cap, user: p.user))
            },
            remove_policy: { instance, id in
                ServiceInstance.from(instance).policies.remove(id)
            }))
        return UnsafePointer(table)
    }()

    private static func find(_ runtime: FunnelRuntime, _ address: UnsafePointer<CChar>, _ err: UnsafeMutablePointer<CChar>, _ size: Int) -> BackendState? {
        let text = String(cString: address)
        let id = (try? HostPort(parsing: text, defaultHost: "127.0.0.1", allowSocket: true)).map { BackendID($0.description) } ?? BackendID(text)
        guard let backend = runtime.registry[id] else {
            _ = failService("no backend \(text)", err, size)
            return nil
        }
        return backend
    }
}
