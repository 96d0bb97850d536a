import ArgumentParser
import ChassisHost
import Foundation
import Logging

/// The chassis options. Everything it does not recognise is a plugin option
/// (--PLUGIN-OPTION[=VALUE]), checked against what the loaded plugins declare.
struct ChassisCommand: ParsableCommand {
    // Run from main.swift, which handles --help itself (plugin options are dynamic).
    static let configuration = CommandConfiguration(
        commandName: "chassis",
        abstract: "A plugin host: loads plugins by name and runs them until SIGTERM or SIGINT.",
        version: "chassis \(ChassisVersion.string) (plugin ABI \(ChassisVersion.abi))")

    @Option(name: .customLong("plugins"), help: ArgumentHelp("Plugins to load, comma-separated or repeated.", valueName: "names"))
    var pluginLists: [String] = []

    @Option(name: .customLong("plugin-dir"), help: ArgumentHelp("Folder the plugins are loaded from (default: the chassis binary's folder).", valueName: "dir"))
    var pluginDir: String?

    @Option(name: .customLong("defaults-file"), help: ArgumentHelp("TOML config file: a [chassis] table and one table per plugin.", valueName: "file"))
    var defaultsFile: String?

    @Flag(name: .customLong("list-plugins"), help: "List the plugins in the plugin dir and exit.")
    var listPlugins = false

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default: info).", valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("log-file"), help: ArgumentHelp("Append log lines to this file instead of stderr.", valueName: "file"))
    var logFile: String?

    @Option(name: .customLong("pid-file"), help: ArgumentHelp("Write the process id to this file while running.", valueName: "file"))
    var pidFile: String?

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Plugin options: --PLUGIN-OPTION=VALUE (see --help with --plugins).", valueName: "plugin-options"))
    var pluginOptions: [String] = []

    mutating func run() throws {
        let settings = try Settings(command: self)
        try Runner(settings: settings).run()
    }
}

enum ChassisVersion {
    static let string = "0.1.0"
    static var abi: String { ChassisABI.version }
}
