import CChassis
import Foundation

/// The services the host registers itself: "chassis.plugins" (list, load at run time) and
/// "chassis.options" (every effective option), so admin and others can inspect the host.
final class HostServices {
    private unowned let host: PluginHost
    private var registered = false

    init(host: PluginHost) { self.host = host }

    private static let pluginsTable: UnsafePointer<chassis_plugins_service> = {
        let table = UnsafeMutablePointer<chassis_plugins_service>.allocate(capacity: 1)
        table.initialize(to: chassis_plugins_service(
            size: UInt32(MemoryLayout<chassis_plugins_service>.size),
            list: { instance, fn, user in
                let host = Unmanaged<PluginHost>.fromOpaque(instance!).takeUnretainedValue()
                for plugin in host.plugins {
                    let m = plugin.manifest
                    m.name.withCString { name in m.version.withCString { version in m.summary.withCString { summary in
                        plugin.path.withCString { path in plugin.state.rawValue.withCString { state in
                            var info = chassis_plugin_info(size: UInt32(MemoryLayout<chassis_plugin_info>.size), name: name,
                                                           version: version, summary: summary, path: path, state: state,
                                                           abi_major: m.abiMajor, abi_minor: m.abiMinor)
                            fn(&info, user)
                        } }
                    } } }
                }
            },
            load: { instance, name, err, errSize in
                let host = Unmanaged<PluginHost>.fromOpaque(instance!).takeUnretainedValue()
                do {
                    try host.loadAtRuntime(String(cString: name))
                    return Int32(CHASSIS_OK)
                } catch {
                    _ = "\(error)".withCString { strncpy(err, $0, errSize - 1) }
                    err[errSize - 1] = 0
                    return Int32(CHASSIS_ERR)
                }
            },
            reload: { instance, err, errSize in
                let host = Unmanaged<PluginHost>.fromOpaque(instance!).takeUnretainedValue()
                if let failure = host.reload() {
                    _ = failure.withCString { strncpy(err, $0, errSize - 1) }
                    err[errSize - 1] = 0
                    return Int32(CHASSIS_ERR)
                }
                return Int32(CHASSIS_OK)
            }))
        return UnsafePointer(table)
    }()

    private static let optionsTable: UnsafePointer<chassis_options_service> = {
        let table = UnsafeMutablePointer<chassis_options_service>.allocate(capacity: 1)
        table.initialize(to: chassis_options_service(
            size: UInt32(MemoryLayout<chassis_options_service>.size),
            list: { instance, fn, user in
                let host = Unmanaged<PluginHost>.fromOpaque(instance!).takeUnretainedValue()
                for plugin in host.plugins {
                    for name in plugin.options.order {
                        let entry = plugin.options.entries[name]!
                        plugin.name.withCString { p in name.withCString { n in entry.origin.rawValue.withCString { o in
                            if let value = entry.value { value.withCString { fn(p, n, $0, o, user) } } else { fn(p, n, nil, o, user) }
                        } } }
                    }
                }
            }))
        return UnsafePointer(table)
    }()

    func register() throws {
        guard !registered else { return }
        registered = true
        let instance = Unmanaged.passUnretained(host).toOpaque()
        for (name, table) in [("chassis.plugins", UnsafeRawPointer(Self.pluginsTable)), ("chassis.options", UnsafeRawPointer(Self.optionsTable))] {
            try name.withCString { cName in
                try host.registry.register(chassis_service(size: UInt32(MemoryLayout<chassis_service>.size), name: cName,
                                                           version: 1, vtable: table, instance: instance), provider: "chassis")
            }
        }
    }
}
