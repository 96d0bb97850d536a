import CChassis
import Foundation
import Logging

/// The chassis_api function table handed to every plugin. Each entry finds the plugin
/// from its handle; none lets a Swift error escape into C.
enum HostAPI {
    static let version = "0.1.0"

    static let table: UnsafePointer<chassis_api> = {
        let api = UnsafeMutablePointer<chassis_api>.allocate(capacity: 1)
        api.initialize(to: chassis_api(
            size: UInt32(MemoryLayout<chassis_api>.size),
            abi_major: UInt16(CHASSIS_ABI_MAJOR),
            abi_minor: UInt16(CHASSIS_ABI_MINOR),
            host_version: UnsafePointer(strdup(version)!),
            set_error: { handle, message in
                LoadedPlugin.from(handle).lastError = String(cString: message)
            },
            log: { handle, level, message in
                let plugin = LoadedPlugin.from(handle)
                plugin.logger.log(level: Logger.Level(chassisLevel: level), "\(String(cString: message))")
            },
            option: { handle, name in
                LoadedPlugin.from(handle).optionCString(String(cString: name))
            },
            register_service: { handle, service in
                let plugin = LoadedPlugin.from(handle)
                do {
                    try plugin.host.registry.register(service.pointee, provider: plugin.name)
                    return Int32(CHASSIS_OK)
                } catch let error as ChassisError {
                    plugin.lastError = error.message
                    return error.kind == .dependency ? Int32(CHASSIS_ERR_EXISTS) : Int32(CHASSIS_ERR_INVALID)
                } catch {
                    return Int32(CHASSIS_ERR)
                }
            },
            unregister_service: { handle, name in
                let plugin = LoadedPlugin.from(handle)
                return plugin.host.registry.unregister(String(cString: name), provider: plugin.name)
                    ? Int32(CHASSIS_OK) : Int32(CHASSIS_ERR_NOT_FOUND)
            },
            lookup_service: { handle, name, minVersion in
                let plugin = LoadedPlugin.from(handle)
                return plugin.host.registry.lookup(String(cString: name), minVersion: minVersion).map { UnsafePointer($0.service) }
            },
            list_services: { handle, fn, user in
                let plugin = LoadedPlugin.from(handle)
                for entry in plugin.host.registry.services {
                    entry.provider.withCString { fn(entry.service, $0, user) }
                }
            },
            subscribe: { handle, pattern, fn, user in
                let plugin = LoadedPlugin.from(handle)
                return plugin.host.registry.subscribe(owner: plugin.name, pattern: String(cString: pattern), callback: fn, user: user)
            },
            unsubscribe: { handle, id in
                let plugin = LoadedPlugin.from(handle)
                return plugin.host.registry.unsubscribe(id, owner: plugin.name) ? Int32(CHASSIS_OK) : Int32(CHASSIS_ERR_NOT_FOUND)
            },
            publish: { handle, event in
                let plugin = LoadedPlugin.from(handle)
                plugin.host.registry.publish(event.pointee, source: plugin.name)
            },
            topic: { handle, name in
                UnsafePointer(LoadedPlugin.from(handle).host.registry.topic(String(cString: name)))
            }
        ))
        return UnsafePointer(api)
    }()
}

extension Logger.Level {
    init(chassisLevel level: Int32) {
        switch level {
        case ..<1: self = .trace
        case 1: self = .debug
        case 2: self = .info
        case 3: self = .notice
        case 4: self = .warning
        case 5: self = .error
        default: self = .critical
        }
    }
}
