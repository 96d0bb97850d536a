import Foundation
import PluginKit

/// The funnel's options as text: the chassis' merged values, with admin's live changes on top.
struct OptionReader {
    var lookup: (String) -> String?

    init(context: PluginContext, overrides: [String: String] = [:]) {
        lookup = { name in overrides[name] ?? context.option(name) }
    }

    func option(_ name: String) -> String? { lookup(name) }
    func intOption(_ name: String) -> Int? { option(name).flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    func doubleOption(_ name: String) -> Double? { option(name).flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } }
    func boolOption(_ name: String) -> Bool {
        ["true", "1", "on", "yes"].contains(option(name)?.lowercased() ?? "")
    }
    func listOption(_ name: String) -> [String] {
        (option(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
