/// The effective value of every declared option of one plugin, and where it came from.
public struct ResolvedOptions: Sendable {
    public enum Origin: String, Sendable { case `default` = "default", config, commandLine = "command-line" }

    public struct Entry: Sendable {
        public var value: String?
        public var origin: Origin
    }

    public private(set) var entries: [String: Entry] = [:]
    public private(set) var order: [String] = []

    public init() {}

    public subscript(name: String) -> String? { entries[name]?.value }

    mutating func set(_ name: String, _ value: String?, origin: Origin) {
        if entries[name] == nil { order.append(name) }
        entries[name] = Entry(value: value, origin: origin)
    }
}
