import CChassis
import PluginKit

/// funnel: the MySQL-protocol pooling proxy. Clients connect to `address`; their statements
/// run on a small pool of backend connections, shared per transaction or per session.
final class FunnelPlugin: ChassisPlugin {
    static let definition = PluginDefinition(
        name: "funnel", version: "0.1.0",
        summary: "MySQL-protocol proxy that funnels many clients into a small pool of backend connections.",
        optional: [.init("stats"), .init("scripting")],
        provides: [.init("funnel.pools")],
        options: FunnelOptions.all)

    private let context: PluginContext
    private let configuration: FunnelConfiguration
    private var runtime: FunnelRuntime?
    private var poolsService: PoolsService?

    init(context: PluginContext) throws {
        self.context = context
        do {
            configuration = try FunnelConfiguration(context: context)
        } catch let error as FunnelConfigurationError {
            throw PluginError("configuration: \(error.description)")
        }
        let service = PoolsService()
        try context.registerService("funnel.pools", version: 1, vtable: PoolsService.table, instance: service.instance)
        poolsService = service
    }

    func start() throws {
        let runtime = try FunnelRuntime(configuration: configuration, context: context)
        do {
            try runtime.start()
        } catch let error as FunnelConfigurationError {
            throw PluginError(error.description)
        }
        self.runtime = runtime
        poolsService?.runtime = runtime
    }

    func stop() {
        poolsService?.runtime = nil
        runtime?.stop()
        runtime = nil
    }
}

@c(chassis_plugin_entry)
public func chassisPluginEntry(major: UInt32, minor: UInt32) -> UnsafePointer<chassis_plugin_descriptor>? {
    PluginExport.descriptor(for: FunnelPlugin.self)
}
