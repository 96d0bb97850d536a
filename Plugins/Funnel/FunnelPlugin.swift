import CChassis
import Foundation
import PluginKit

/// funnel: the MySQL-protocol pooling proxy. Clients connect to `address`; their statements
/// run on a small pool of backend connections, shared per transaction or per session.
final class FunnelPlugin: ChassisPlugin {
    static let definition = PluginDefinition(
        name: "funnel", version: "0.2.0",
        summary: "MySQL-protocol proxy that funnels many clients into a small pool of backend connections.",
        optional: [.init("stats"), .init("scripting")],
        provides: [.init("funnel.pools"), .init("funnel.backends"), .init("funnel.clients"), .init("funnel.control")],
        options: FunnelOptions.all)

    /// Options that need a restart: the listener and the event loops are made once.
    static let restartOnly: Set<String> = ["address", "threads", "max-packet-size", "server-version"]

    private let context: PluginContext
    private var configuration: FunnelConfiguration
    private let service = ServiceInstance()
    private let lock = NSLock()
    /// Admin's live changes (SET name = value), kept over reloads.
    private var overrides: [String: String] = [:]

    init(context: PluginContext) throws {
        self.context = context
        configuration = try Self.read(OptionReader(context: context))
        try context.registerService("funnel.pools", version: 1, vtable: PoolsService.table, instance: service.pointer)
        try context.registerService("funnel.backends", version: 1, vtable: BackendsService.table, instance: service.pointer)
        try context.registerService("funnel.clients", version: 1, vtable: ClientsService.table, instance: service.pointer)
        try context.registerService("funnel.control", version: 1, vtable: ControlService.table, instance: service.pointer)
        service.applyOption = { [unowned self] name, value in try self.set(name, value) }
    }

    private static func read(_ options: OptionReader) throws -> FunnelConfiguration {
        do {
            return try FunnelConfiguration(options: options)
        } catch let error as FunnelConfigurationError {
            throw PluginError("configuration: \(error.description)")
        }
    }

    func start() throws {
        let runtime = try FunnelRuntime(configuration: configuration, context: context, policies: service.policies,
                                        backendsService: service.pointer)
        do {
            try runtime.start()
        } catch let error as FunnelConfigurationError {
            throw PluginError(error.description)
        }
        service.runtime = runtime
    }

    func stop() {
        let runtime = service.runtime
        service.runtime = nil
        runtime?.stop()
    }

    /// SIGHUP: the config file's new values (admin's live changes stay on top).
    func reload() throws {
        lock.lock()
        defer { lock.unlock() }
        let new = try Self.read(OptionReader(context: context, overrides: overrides))
        try apply(new)
    }

    /// Admin's SET name = value.
    private func set(_ name: String, _ value: String) throws {
        lock.lock()
        defer { lock.unlock() }
        guard let declaration = FunnelOptions.all.first(where: { $0.name == name }) else {
            throw PluginError("unknown funnel option '\(name)'")
        }
        guard !Self.restartOnly.contains(name) else { throw PluginError("\(name) cannot change while running; restart the chassis") }
        guard Self.valid(value, declaration.kind) else { throw PluginError("\(name) must be a \(declaration.kind)") }
        var candidate = overrides
        candidate[name] = value
        let new = try Self.read(OptionReader(context: context, overrides: candidate))
        try apply(new)
        overrides = candidate
        context.log(.notice, "option \(name) set to \(value)")
    }

    private func apply(_ new: FunnelConfiguration) throws {
        for name in Self.restartOnly {
            let changed: Bool
            switch name {
            case "address": changed = new.address != configuration.address
            case "threads": changed = new.threads != configuration.threads
            case "max-packet-size": changed = new.maxPacketSize != configuration.maxPacketSize
            default: changed = new.serverVersion != configuration.serverVersion
            }
            if changed { context.log(.warning, "\(name) changed in the configuration; it takes effect at the next restart") }
        }
        configuration = new
        service.runtime?.apply(new)
    }

    private static func valid(_ value: String, _ kind: PluginDefinition.Option.Kind) -> Bool {
        switch kind {
        case .int: return Int(value) != nil
        case .double: return Double(value) != nil
        case .bool: return ["true", "false", "1", "0", "on", "off", "yes", "no"].contains(value.lowercased())
        case .string, .list, .table: return true
        }
    }
}

@c(chassis_plugin_entry)
public func chassisPluginEntry(major: UInt32, minor: UInt32) -> UnsafePointer<chassis_plugin_descriptor>? {
    PluginExport.descriptor(for: FunnelPlugin.self)
}
