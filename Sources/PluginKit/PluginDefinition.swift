import CChassis

/// What a Swift plugin declares about itself; PluginExport turns it into the C descriptor.
public struct PluginDefinition {
    public struct Dependency {
        public var service: String
        public var version: UInt32
        public init(_ service: String, version: UInt32 = 1) {
            self.service = service
            self.version = version
        }
    }

    public struct Option {
        public enum Kind: UInt32 { case string = 1, int, bool, double, list, table }
        public var name: String
        public var kind: Kind
        public var defaultValue: String?
        public var help: String
        public init(_ name: String, _ kind: Kind, default defaultValue: String? = nil, help: String) {
            self.name = name
            self.kind = kind
            self.defaultValue = defaultValue
            self.help = help
        }
    }

    public var name: String
    public var version: String
    public var summary: String
    public var requires: [Dependency]
    public var optional: [Dependency]
    public var provides: [Dependency]
    public var options: [Option]

    public init(name: String, version: String, summary: String, requires: [Dependency] = [], optional: [Dependency] = [],
                provides: [Dependency] = [], options: [Option] = []) {
        self.name = name
        self.version = version
        self.summary = summary
        self.requires = requires
        self.optional = optional
        self.provides = provides
        self.options = options
    }
}

/// The lifecycle a Swift plugin implements; init is the C init, deinit the C deinit.
public protocol ChassisPlugin: AnyObject {
    static var definition: PluginDefinition { get }
    init(context: PluginContext) throws
    func start() throws
    func stop()
    func reload() throws
}

public extension ChassisPlugin {
    func start() throws {}
    func stop() {}
    func reload() throws {}
}

/// A failure with the message the host prints next to the plugin's name.
public struct PluginError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
