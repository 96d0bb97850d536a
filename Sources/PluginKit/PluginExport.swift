import CChassis
import Foundation

/// Builds the C descriptor for a ChassisPlugin type. A Swift plugin's whole export is:
///
///     @c(chassis_plugin_entry)
///     public func chassisPluginEntry(major: UInt32, minor: UInt32) -> UnsafePointer<chassis_plugin_descriptor>? {
///         PluginExport.descriptor(for: MyPlugin.self)
///     }
///
/// PluginKit is linked into each plugin library on its own (and libraries load RTLD_LOCAL),
/// so the one plugin type remembered here is never shared with another plugin.
public enum PluginExport {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var exported: (descriptor: UnsafePointer<chassis_plugin_descriptor>, factory: (PluginContext) throws -> ChassisPlugin)?

    public static func descriptor<P: ChassisPlugin>(for type: P.Type) -> UnsafePointer<chassis_plugin_descriptor> {
        lock.lock()
        defer { lock.unlock() }
        if let exported { return exported.descriptor }
        let descriptor = build(P.definition)
        exported = (descriptor, { try P(context: $0) })
        return descriptor
    }

    /// The plugin object lives in ctx->state as a retained PluginInstance.
    final class PluginInstance {
        let context: PluginContext
        let plugin: ChassisPlugin
        init(context: PluginContext, plugin: ChassisPlugin) {
            self.context = context
            self.plugin = plugin
        }
    }

    static func instance(_ ctx: UnsafeMutablePointer<chassis_context>) -> PluginInstance? {
        ctx.pointee.state.map { Unmanaged<PluginInstance>.fromOpaque($0).takeUnretainedValue() }
    }

    private static func build(_ d: PluginDefinition) -> UnsafePointer<chassis_plugin_descriptor> {
        let descriptor = UnsafeMutablePointer<chassis_plugin_descriptor>.allocate(capacity: 1)
        descriptor.initialize(to: chassis_plugin_descriptor(
            size: UInt32(MemoryLayout<chassis_plugin_descriptor>.size),
            abi_major: UInt16(CHASSIS_ABI_MAJOR), abi_minor: UInt16(CHASSIS_ABI_MINOR),
            name: permanent(d.name), version: permanent(d.version), summary: permanent(d.summary),
            requires: dependencies(d.requires), optional: dependencies(d.optional), provides: dependencies(d.provides),
            options: options(d.options),
            init: { ctx in
                guard let factory = PluginExport.exported?.factory else { return Int32(CHASSIS_ERR) }
                let context = PluginContext(ctx)
                do {
                    let plugin = try factory(context)
                    ctx.pointee.state = Unmanaged.passRetained(PluginInstance(context: context, plugin: plugin)).toOpaque()
                    return Int32(CHASSIS_OK)
                } catch {
                    context.fail("\(error)")
                    return Int32(CHASSIS_ERR)
                }
            },
            start: { ctx in
                guard let instance = PluginExport.instance(ctx) else { return Int32(CHASSIS_ERR) }
                do { try instance.plugin.start(); return Int32(CHASSIS_OK) } catch {
                    instance.context.fail("\(error)")
                    return Int32(CHASSIS_ERR)
                }
            },
            stop: { ctx in PluginExport.instance(ctx)?.plugin.stop() },
            deinit: { ctx in
                guard let state = ctx.pointee.state else { return }
                let instance = Unmanaged<PluginInstance>.fromOpaque(state)
                instance.takeUnretainedValue().context.releaseSubscriptions()
                instance.release()
                ctx.pointee.state = nil
            },
            reload: { ctx in
                guard let instance = PluginExport.instance(ctx) else { return Int32(CHASSIS_ERR) }
                do { try instance.plugin.reload(); return Int32(CHASSIS_OK) } catch {
                    instance.context.fail("\(error)")
                    return Int32(CHASSIS_ERR)
                }
            }))
        return UnsafePointer(descriptor)
    }

    /// Descriptor strings and arrays live as long as the (resident) library.
    private static func permanent(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(s)!) }

    private static func dependencies(_ list: [PluginDefinition.Dependency]) -> UnsafePointer<UnsafePointer<chassis_dependency>?>? {
        nullTerminated(list.map { chassis_dependency(size: UInt32(MemoryLayout<chassis_dependency>.size), service: permanent($0.service), min_version: $0.version) })
    }

    private static func options(_ list: [PluginDefinition.Option]) -> UnsafePointer<UnsafePointer<chassis_option_decl>?>? {
        nullTerminated(list.map {
            chassis_option_decl(size: UInt32(MemoryLayout<chassis_option_decl>.size), name: permanent($0.name), type: $0.kind.rawValue,
                                default_value: $0.defaultValue.map(permanent), help: permanent($0.help))
        })
    }

    private static func nullTerminated<T>(_ items: [T]) -> UnsafePointer<UnsafePointer<T>?>? {
        guard !items.isEmpty else { return nil }
        let array = UnsafeMutablePointer<UnsafePointer<T>?>.allocate(capacity: items.count + 1)
        for (i, item) in items.enumerated() {
            let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
            p.initialize(to: item)
            array[i] = UnsafePointer(p)
        }
        array[items.count] = nil
        return UnsafePointer(array)
    }
}
