import CChassis
import Foundation
import PluginKit

/// stats: registers the "stats" service (chassis_stats.h) and serves its figures over HTTP.
final class StatsPlugin: ChassisPlugin {
    static let definition = PluginDefinition(
        name: "stats", version: "1.0.0",
        summary: "Counters, gauges, latency histograms and query digests; Prometheus /metrics and /stats.json.",
        provides: [.init(CHASSIS_STATS_SERVICE, version: UInt32(CHASSIS_STATS_VERSION))],
        options: [
            .init("address", .string, default: "127.0.0.1:9104",
                  help: "host:port of the HTTP endpoint (/metrics, /stats.json); empty: no HTTP server."),
            .init("max-digests", .int, default: "1000",
                  help: "Query digests kept; beyond it one not seen lately is evicted (about 25 KB each)."),
        ])

    private let context: PluginContext
    private let store: StatsStore
    private let address: (host: String, port: Int)?
    private var server: MetricsHTTPServer?

    init(context: PluginContext) throws {
        self.context = context
        let text = context.option("address") ?? ""
        if text.isEmpty {
            address = nil
        } else {
            guard let parsed = MetricsHTTPServer.parse(text) else { throw PluginError("address '\(text)' is not host:port") }
            address = parsed
        }
        let maxDigests = context.intOption("max-digests") ?? 1000
        guard maxDigests > 0 else { throw PluginError("max-digests must be at least 1, not \(maxDigests)") }
        store = StatsStore(maxDigests: maxDigests)
        let figures = ChassisFigures(plugins: Self.pluginsService(context))
        _ = store.addCollector(figures.collect(into:))
        // Retained for good: publishers keep metric and series pointers for the life of the
        // process (chassis_stats.h), also after this plugin stopped.
        let instance = Unmanaged.passRetained(store).toOpaque()
        try context.registerService(CHASSIS_STATS_SERVICE, version: UInt32(CHASSIS_STATS_VERSION), vtable: StatsService.table,
                                    instance: instance)
    }

    /// Only `list` is called: any table that covers it will do, also one older than later appended fields.
    private static func pluginsService(_ context: PluginContext) -> ChassisFigures.PluginsService? {
        guard let service = context.lookupService("chassis.plugins"),
              let needed = MemoryLayout<chassis_plugins_service>.offset(of: \.load),
              service.pointee.vtable.load(as: UInt32.self) >= needed else { return nil }
        return (service.pointee.vtable.assumingMemoryBound(to: chassis_plugins_service.self), service.pointee.instance)
    }

    func start() throws {
        guard let address else {
            context.log(.info, "no HTTP endpoint (address is empty)")
            return
        }
        do {
            let server = try MetricsHTTPServer(host: address.host, port: address.port, store: store)
            self.server = server
            let port = server.localAddress?.port ?? address.port
            let host = address.host.contains(":") ? "[\(address.host)]" : address.host
            context.log(.info, "serving http://\(host):\(port)/metrics and /stats.json")
        } catch {
            throw PluginError("cannot listen on \(address.host):\(address.port): \(error)")
        }
    }

    func stop() {
        server?.stop()
        server = nil
    }
}

@c(chassis_plugin_entry)
public func chassisPluginEntry(major: UInt32, minor: UInt32) -> UnsafePointer<chassis_plugin_descriptor>? {
    PluginExport.descriptor(for: StatsPlugin.self)
}
