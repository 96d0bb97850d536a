import Foundation

/// Merges defaults, the config file and the command line (which wins) for every loaded
/// plugin, checking names and types before anything starts.
public struct OptionResolver {
    /// `--PLUGIN-OPTION` spelling -> (plugin, option).
    private var flags: [String: (plugin: String, option: PluginManifest.OptionDeclaration)] = [:]
    private let manifests: [PluginInterface]

    public init(manifests: [PluginInterface]) throws {
        self.manifests = manifests
        for manifest in manifests {
            for option in manifest.options {
                let flag = "\(manifest.name)-\(option.name)"
                if let other = flags[flag] {
                    throw ChassisError(.load, "option --\(flag) is declared by both plugin \(other.plugin) and plugin \(manifest.name)")
                }
                flags[flag] = (manifest.name, option)
            }
        }
    }

    /// - Parameters:
    ///   - arguments: the command-line words the chassis did not recognise itself.
    ///   - config: the config file's root table (one table per plugin), if any.
    ///   - configName: the file's path, for error messages.
    public func resolve(arguments: [String], config: TOMLTable?, configName: String = "config") throws -> [String: ResolvedOptions] {
        var result: [String: ResolvedOptions] = [:]
        for manifest in manifests {
            var options = ResolvedOptions()
            for option in manifest.options {
                options.set(option.name, option.defaultValue, origin: .default)
            }
            if let table = config.flatMap({ $0[manifest.name] }) {
                guard case .table(let pluginTable) = table else {
                    throw ChassisError(.usage, "\(configName): [\(manifest.name)] must be a table")
                }
                for (key, value) in pluginTable.entries {
                    let name = key.replacingOccurrences(of: "_", with: "-")
                    guard let decl = manifest.options.first(where: { $0.name == name }) else {
                        throw ChassisError(.usage, "\(configName): unknown option '\(key)' in [\(manifest.name)]; \(Self.known(manifest))")
                    }
                    options.set(name, try Self.configValue(value, decl, plugin: manifest.name, file: configName), origin: .config)
                }
            }
            result[manifest.name] = options
        }

        var listsSeenOnCommandLine = Set<String>()
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            guard word.hasPrefix("--") else {
                throw ChassisError(.usage, "unexpected argument '\(word)'")
            }
            let body = word.dropFirst(2)
            let flag: String
            var value: String?
            if let eq = body.firstIndex(of: "=") {
                flag = String(body[..<eq])
                value = String(body[body.index(after: eq)...])
            } else {
                flag = String(body)
            }
            guard let (plugin, decl) = flags[flag] else {
                throw ChassisError(.usage, "unknown option --\(flag); run 'chassis --help --plugins NAMES' to list the options of those plugins")
            }
            if value == nil {
                if decl.type == .bool, i + 1 >= arguments.count || arguments[i + 1].hasPrefix("--") {
                    value = "true"
                } else if i + 1 < arguments.count {
                    i += 1
                    value = arguments[i]
                } else {
                    throw ChassisError(.usage, "option --\(flag) needs a value (\(decl.type))")
                }
            }
            guard let normalized = decl.type.normalize(value!) else {
                throw ChassisError(.usage, "option --\(flag): '\(value!)' is not a valid \(decl.type)")
            }
            var merged = normalized
            // A list option given several times accumulates; the first use replaces the config's.
            if decl.type == .list, !listsSeenOnCommandLine.insert(flag).inserted, let earlier = result[plugin]?[decl.name] {
                merged = earlier + "," + normalized
            }
            result[plugin]!.set(decl.name, merged, origin: .commandLine)
            i += 1
        }
        return result
    }

    private static func configValue(_ value: TOMLValue, _ decl: PluginManifest.OptionDeclaration, plugin: String, file: String) throws -> String {
        let typeError = ChassisError(.usage, "\(file): [\(plugin)] \(decl.name) must be a \(decl.type)")
        switch (decl.type, value) {
        case (.table, .table): return value.jsonText
        case (.table, .array(let items)) where items.allSatisfy({ if case .table = $0 { return true } else { return false } }):
            return value.jsonText
        case (.table, _): throw typeError
        case (.list, .array(let items)):
            return try items.map { item -> String in
                if case .array = item { throw typeError }
                if case .table = item { throw typeError }
                return item.optionText
            }.joined(separator: ",")
        case (_, .array), (_, .table): throw typeError
        default:
            guard let normalized = decl.type.normalize(value.optionText) else { throw typeError }
            return normalized
        }
    }

    private static func known(_ manifest: PluginInterface) -> String {
        manifest.options.isEmpty ? "the plugin declares no options" : "known: " + manifest.options.map(\.name).joined(separator: ", ")
    }
}
