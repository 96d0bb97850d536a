import CChassis
import MySQLWire

/// "funnel.control": PAUSE/RESUME, live options, users.
enum ControlService {
    static let table: UnsafePointer<chassis_funnel_control_service> = {
        let table = UnsafeMutablePointer<chassis_funnel_control_service>.allocate(capacity: 1)
        table.initialize(to: chassis_funnel_control_service(
            size: UInt32(MemoryLayout<chassis_funnel_control_service>.size),
            pause: { instance in
                guard let runtime = ServiceInstance.from(instance).runtime else { return }
                runtime.coordinator.pause()
                runtime.log(.notice, "paused: new statements wait in the backlog")
            },
            resume: { instance in
                guard let runtime = ServiceInstance.from(instance).runtime else { return }
                runtime.coordinator.resume()
                runtime.log(.notice, "resumed")
            },
            is_paused: { instance in
                (ServiceInstance.from(instance).runtime?.coordinator.isPaused ?? false) ? 1 : 0
            },
            set_option: { instance, name, value, err, size in
                let service = ServiceInstance.from(instance)
                guard let apply = service.applyOption else { return failService("funnel is not running", err, size) }
                do {
                    try apply(String(cString: name), String(cString: value))
                    return 0
                } catch {
                    return failService("\(error)", err, size)
                }
            },
            set_user: { instance, name, password, database, maxClients, maxBackend, poolMode, err, size in
                guard let runtime = ServiceInstance.from(instance).runtime else { return failService("funnel is not running", err, size) }
                let userName = String(cString: name)
                var entry = runtime.users.configuredEntry(userName) ?? UserEntry(name: userName, storedHash: [])
                if runtime.users.configuredEntry(userName) == nil && password == nil {
                    return failService("a new user needs a password", err, size)
                }
                if let password {
                    let text = String(cString: password)
                    if text.hasPrefix("*") {
                        guard let hash = NativePassword.storedHash(fromHashString: text) else {
                            return failService("password hash must be * and 40 hex digits", err, size)
                        }
                        entry.storedHash = hash
                        entry.stage1 = nil
                    } else {
                        entry.storedHash = text.isEmpty ? [] : NativePassword.storedHash(password: text)
                        entry.stage1 = text.isEmpty ? [] : NativePassword.stage1(password: text)
                    }
                }
                if let database { let db = String(cString: database); entry.defaultDatabase = db.isEmpty ? nil : db }
                if maxClients >= 0 { entry.maxClientConnections = maxClients == 0 ? nil : Int(maxClients) }
                if maxBackend >= 0 { entry.maxBackendConnections = maxBackend == 0 ? nil : Int(maxBackend) }
                if let poolMode {
                    guard let mode = PoolMode(rawValue: String(cString: poolMode)) else {
                        return failService("pool_mode must be transaction or session", err, size)
                    }
                    entry.poolMode = mode
                }
                runtime.users.set(entry, source: "admin")
                if let stage1 = entry.stage1 { runtime.credentials[userName] = .stage1(stage1) }
                runtime.refreshUserLimits()
                return 0
            },
            list_users: { instance, fn, user in
                guard let runtime = ServiceInstance.from(instance).runtime else { return }
                for (entry, source) in runtime.users.listed {
                    entry.name.withCString { n in (entry.defaultDatabase ?? "").withCString { d in
                        (entry.poolMode ?? runtime.users.defaultPoolMode).rawValue.withCString { m in source.withCString { s in
                            var info = chassis_funnel_user_info(
                                size: UInt32(MemoryLayout<chassis_funnel_user_info>.size), name: n, database: d, pool_mode: m,
                                max_client_connections: Int64(entry.maxClientConnections ?? -1),
                                max_backend_connections: Int64(entry.maxBackendConnections ?? -1),
                                clients: UInt32(runtime.coordinator.clients(of: entry.name)), source: s)
                            fn(&info, user)
                        } }
                    } }
                }
            }))
        return UnsafePointer(table)
    }()
}
