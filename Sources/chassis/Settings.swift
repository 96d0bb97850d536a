import ChassisHost
import Foundation
import Logging

/// The chassis' own settings: the command line over the config file's [chassis] table.
struct Settings {
    var plugins: [String]
    var pluginDir: String
    var configFile: String?
    var listPlugins: Bool
    var logLevel: Logger.Level
    var logFile: String?
    var pidFile: String?
    var pluginArguments: [String]

    init(command: ChassisCommand) throws {
        let config = try command.defaultsFile.map(ConfigFile.read)
        var chassisTable = TOMLTable()
        if let value = config?["chassis"] {
            guard case .table(let t) = value else { throw ChassisError(.usage, "\(command.defaultsFile!): [chassis] must be a table") }
            chassisTable = t
        }
        let known = ["plugins", "plugin-dir", "log-level", "log-file", "pid-file"]
        for key in chassisTable.keys where !known.contains(key.replacingOccurrences(of: "_", with: "-")) {
            throw ChassisError(.usage, "\(command.defaultsFile!): unknown option '\(key)' in [chassis]; known: \(known.joined(separator: ", "))")
        }
        func text(_ key: String) throws -> String? {
            guard let value = chassisTable[key] ?? chassisTable[key.replacingOccurrences(of: "-", with: "_")] else { return nil }
            guard case .string(let s) = value else { throw ChassisError(.usage, "\(command.defaultsFile!): [chassis] \(key) must be a string") }
            return s
        }

        var names = command.pluginLists.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        if names.isEmpty, let value = chassisTable["plugins"] {
            switch value {
            case .array(let items): names = items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            case .string(let s): names = s.split(separator: ",").map(String.init)
            default: throw ChassisError(.usage, "\(command.defaultsFile!): [chassis] plugins must be a list of names")
            }
        }
        let (aliasedNames, aliasedArguments) = MySQLProxyAliases.translate(plugins: names.filter { !$0.isEmpty }, arguments: command.pluginOptions)
        plugins = aliasedNames
        pluginArguments = aliasedArguments
        pluginDir = try command.pluginDir ?? text("plugin-dir") ?? ProcessInfo.processInfo.environment["CHASSIS_PLUGIN_DIR"] ?? Self.defaultPluginDir
        configFile = command.defaultsFile
        listPlugins = command.listPlugins
        let levelName = try command.logLevel ?? text("log-level") ?? "info"
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else {
            throw ChassisError(.usage, "--log-level: '\(levelName)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        logLevel = level
        logFile = try command.logFile ?? text("log-file")
        pidFile = try command.pidFile ?? text("pid-file")
    }

    /// Where the build or an install puts plugins: beside the binary, or ../lib/chassis.
    static var defaultPluginDir: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let binDir = (exe as NSString).deletingLastPathComponent
        let installed = (binDir as NSString).appendingPathComponent("../lib/chassis")
        return FileManager.default.fileExists(atPath: installed) ? (installed as NSString).standardizingPath : binDir
    }
}

/// MySQL Proxy 0.8 spellings, so existing command lines migrate unchanged.
enum MySQLProxyAliases {
    static let options = [
        "proxy-address": "funnel-address",
        "proxy-backend-addresses": "funnel-backend-addresses",
        "proxy-read-only-backend-addresses": "funnel-read-only-backend-addresses",
        "proxy-lua-script": "lua-script",
    ]

    static func translate(plugins: [String], arguments: [String]) -> ([String], [String]) {
        let names = plugins.map { $0 == "proxy" ? "funnel" : $0 }
        let args = arguments.map { word -> String in
            guard word.hasPrefix("--") else { return word }
            let body = word.dropFirst(2)
            let flag = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            guard let target = options[flag] else { return word }
            return "--" + target + body.dropFirst(flag.count)
        }
        return (names, args)
    }
}
