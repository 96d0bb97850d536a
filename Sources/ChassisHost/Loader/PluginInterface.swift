/// A plugin's declarations: its name, the services it needs and offers, its options.
public struct PluginInterface: Sendable {
    public var name: String
    public var requires: [PluginManifest.Dependency]
    public var optional: [PluginManifest.Dependency]
    public var provides: [PluginManifest.Dependency]
    public var options: [PluginManifest.OptionDeclaration]

    public init(name: String, requires: [PluginManifest.Dependency] = [], optional: [PluginManifest.Dependency] = [],
                provides: [PluginManifest.Dependency] = [], options: [PluginManifest.OptionDeclaration] = []) {
        self.name = name
        self.requires = requires
        self.optional = optional
        self.provides = provides
        self.options = options
    }
}
