import CChassis
import Foundation
import Logging

/// Runs the plugins' lifecycle: load, resolve options, init in dependency order, start,
/// and on the way down stop and deinit in reverse. See docs/ARCHITECTURE.md for the diagram.
public final class PluginHost: @unchecked Sendable {
    public let registry = ServiceRegistry()
    public let loader: PluginLoader
    let logger: Logger
    /// In lifecycle order once `initialize` ran, in load order before.
    public private(set) var plugins: [LoadedPlugin] = []
    private var arguments: [String] = []
    private var configFile: String?
    /// Serialises lifecycle changes: signals and LOAD PLUGIN arrive on other threads.
    private let lifecycleLock = NSRecursiveLock()
    private lazy var hostServices = HostServices(host: self)

    public init(pluginDirectory: String, logger: Logger) {
        self.loader = PluginLoader(directory: pluginDirectory)
        self.logger = logger
    }

    // MARK: start-up

    /// Loads every named plugin; nothing is initialised yet.
    public func load(_ names: [String]) throws {
        for name in names {
            let (path, manifest) = try loader.load(name)
            if let twin = plugins.first(where: { $0.name == manifest.name }) {
                throw ChassisError(.dependency, "plugin \(manifest.name) is named twice (\(twin.path) and \(path))")
            }
            plugins.append(LoadedPlugin(manifest: manifest, path: path, host: self,
                                        logger: Logger(label: manifest.name)))
        }
    }

    /// Merges defaults, the config file and the command line for every loaded plugin.
    public func configure(arguments: [String], configFile: String?) throws {
        self.arguments = arguments
        self.configFile = configFile
        let resolved = try resolveOptions(for: plugins)
        for plugin in plugins { plugin.options = resolved[plugin.name] ?? ResolvedOptions() }
    }

    private func resolveOptions(for plugins: [LoadedPlugin]) throws -> [String: ResolvedOptions] {
        let config = try configFile.map(ConfigFile.read)
        return try OptionResolver(manifests: plugins.map(\.manifest.interface)).resolve(
            arguments: arguments, config: config, configName: configFile ?? "config")
    }

    /// Initialises then starts every plugin in dependency order. On a failure, the plugins
    /// already started are stopped and those initialised are deinitialised, in reverse.
    public func start() throws {
        lifecycleLock.lock()
        defer { lifecycleLock.unlock() }
        let order = try DependencyOrder.sort(plugins.map(\.manifest.interface))
        plugins = order.map { plugins[$0] }
        try hostServices.register()
        for (i, plugin) in plugins.enumerated() {
            do {
                try plugin.run(plugin.manifest.initCallback, phase: "initialise")
                plugin.state = .initialized
                plugin.initSucceeded = true
                try checkProvides(plugin)
            } catch {
                plugin.state = .failed
                teardown(plugins[...i])
                throw error
            }
        }
        for plugin in plugins {
            do {
                plugin.startAttempted = true
                try plugin.run(plugin.manifest.startCallback, phase: "start")
            } catch {
                plugin.state = .failed
                teardown(plugins[...])
                throw error
            }
            plugin.state = .started
            registry.publish(name: "chassis.plugin.started", source: "chassis", detail: "name=\(plugin.name)")
        }
    }

    /// A plugin must register what its descriptor says it provides, or its dependents break later.
    private func checkProvides(_ plugin: LoadedPlugin) throws {
        for provided in plugin.manifest.provides where registry.lookup(provided.service) == nil {
            throw ChassisError(.lifecycle, "plugin \(plugin.name) declares that it provides service '\(provided.service)' but did not register it during init")
        }
    }

    // MARK: shut-down

    /// Stops then deinitialises everything, in reverse order.
    public func shutdown() {
        lifecycleLock.lock()
        defer { lifecycleLock.unlock() }
        teardown(plugins[...])
    }

    /// stop runs for every plugin whose start ran (even if it failed), then deinit for every
    /// plugin whose init succeeded, both in reverse order; services and subscriptions go too.
    private func teardown(_ slice: ArraySlice<LoadedPlugin>) {
        let live = slice.filter(\.initSucceeded)
        for plugin in live.reversed() {
            if plugin.startAttempted {
                registry.publish(name: "chassis.plugin.stopping", source: "chassis", detail: "name=\(plugin.name)")
                plugin.run(plugin.manifest.stopCallback)
                plugin.startAttempted = false
            }
            registry.unsubscribeAll(owner: plugin.name)
            registry.unregisterAll(provider: plugin.name)
        }
        for plugin in live.reversed() {
            plugin.run(plugin.manifest.deinitCallback)
            plugin.initSucceeded = false
            plugin.state = .stopped
            plugin.freeOptionStrings()
        }
    }

    // MARK: at run time

    /// SIGHUP: re-read the config file and hand every plugin that supports it its new options.
    /// Returns why it was refused or which plugin failed, nil when all went well.
    @discardableResult
    public func reload() -> String? {
        lifecycleLock.lock()
        defer { lifecycleLock.unlock() }
        let resolved: [String: ResolvedOptions]
        do {
            resolved = try resolveOptions(for: plugins)
        } catch {
            logger.error("reload refused, configuration unchanged: \(error)")
            return "reload refused, configuration unchanged: \(error)"
        }
        var failures: [String] = []
        for plugin in plugins where plugin.state == .started {
            guard let reload = plugin.manifest.reloadCallback else { continue }
            plugin.replaceOptions(resolved[plugin.name] ?? ResolvedOptions())
            do {
                try plugin.run(reload, phase: "reload")
                logger.info("plugin \(plugin.name) reloaded its configuration")
            } catch {
                logger.error("\(error)")
                failures.append("\(error)")
            }
        }
        registry.publish(name: "chassis.reload", source: "chassis", detail: "")
        return failures.isEmpty ? nil : failures.joined(separator: "; ")
    }

    /// LOAD PLUGIN: loads, initialises and starts one more plugin while the others run.
    public func loadAtRuntime(_ name: String) throws {
        lifecycleLock.lock()
        defer { lifecycleLock.unlock() }
        let before = plugins.count
        try load([name])
        let plugin = plugins[before]
        do {
            let resolved = try resolveOptions(for: [plugin])
            plugin.options = resolved[plugin.name] ?? ResolvedOptions()
            for dep in plugin.manifest.requires where registry.lookup(dep.service, minVersion: dep.minVersion) == nil {
                throw ChassisError(.dependency, "plugin \(plugin.name) requires service '\(dep.service)' (version \(dep.minVersion) or later), which no running plugin provides")
            }
            try plugin.run(plugin.manifest.initCallback, phase: "initialise")
            plugin.state = .initialized
            plugin.initSucceeded = true
            try checkProvides(plugin)
            plugin.startAttempted = true
            try plugin.run(plugin.manifest.startCallback, phase: "start")
            plugin.state = .started
            registry.publish(name: "chassis.plugin.started", source: "chassis", detail: "name=\(plugin.name)")
        } catch {
            plugin.state = .failed
            teardown([plugin][...])
            plugins.removeLast()
            throw error
        }
    }
}
