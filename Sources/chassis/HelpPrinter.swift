import ChassisHost
import Foundation

/// `chassis --help [--plugins ...]`: the chassis options, then each named plugin's own.
enum HelpPrinter {
    static func print(arguments: [String]) throws {
        Swift.print(ChassisCommand.helpMessage(columns: 100))
        let withoutHelp = arguments.filter { $0 != "--help" && $0 != "-h" }
        guard let command = try? ChassisCommand.parse(withoutHelp) else { return }
        let settings = try Settings(command: command)
        guard !settings.plugins.isEmpty else {
            Swift.print("Name plugins with --plugins to list their options as well.")
            return
        }
        let loader = PluginLoader(directory: settings.pluginDir)
        for name in settings.plugins {
            let manifest = try loader.load(name).manifest
            Swift.print("PLUGIN \(manifest.name) \(manifest.version): \(manifest.summary)")
            if manifest.options.isEmpty { Swift.print("  (no options)\n"); continue }
            for option in manifest.options {
                let flag = "  --\(manifest.name)-\(option.name)=<\(option.type)>"
                let defaultText = option.defaultValue.map { " (default: \($0))" } ?? ""
                Swift.print(flag.padding(toLength: max(flag.count + 1, 44), withPad: " ", startingAt: 0) + option.help + defaultText)
            }
            Swift.print("")
        }
    }
}
