import CChassis
import PluginKit

/// admin: a MySQL-protocol port for operators. SQL-style tables over the other plugins'
/// services, and commands that change the running funnel through them.
public final class AdminPlugin: ChassisPlugin {
    public static let definition = PluginDefinition(
        name: "admin", version: "1.0.0",
        summary: "MySQL-protocol admin port: SQL-style tables and commands over the plugins' services.",
        // Optional, so the providers start before admin and stop after it; every lookup happens
        // per statement, so a provider loaded later is used at once.
        optional: [.init("funnel.pools"), .init("funnel.backends"), .init("funnel.clients"), .init("funnel.control"),
                   .init(CHASSIS_STATS_SERVICE, version: UInt32(CHASSIS_STATS_VERSION))],
        options: AdminSettings.options)

    private let context: PluginContext
    private let settings: AdminSettings
    private let server: AdminServer

    public init(context: PluginContext) throws {
        self.context = context
        settings = try AdminSettings(option: context.option)
        server = AdminServer(context: context, credentials: settings.credentials)
    }

    public func start() throws {
        let port: Int
        do {
            port = try server.start(host: settings.host, port: settings.port)?.port ?? settings.port
        } catch {
            throw PluginError("cannot listen on \(settings.host):\(settings.port): \(error)")
        }
        context.log(.info, "admin port listening on \(settings.host):\(port) for user '\(settings.credentials.user)'")
        if !settings.isLoopback {
            context.log(.warning, "the admin port listens beyond loopback (\(settings.host)): anyone who reaches it and knows the password can change the funnel")
        }
    }

    public func stop() {
        server.stop()
    }

    /// SIGHUP or RELOAD: a new user or password applies to the next login. The address stays.
    public func reload() throws {
        server.credentials = try AdminSettings.credentials(option: context.option)
        if (try? AdminSettings.parseAddress(context.option("address") ?? "")).map({ $0 != (settings.host, settings.port) }) == true {
            context.log(.warning, "admin-address changes take a restart; still listening on \(settings.host):\(settings.port)")
        }
    }
}
