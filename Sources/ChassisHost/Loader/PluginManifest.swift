import CChassis

/// The host's copy of a plugin descriptor, read field by field up to the size the plugin
/// declared, so a plugin built against an older minor header never has its tail misread.
public struct PluginManifest {
    public struct Dependency: Equatable, Sendable {
        public var service: String
        public var minVersion: UInt32
        public init(service: String, minVersion: UInt32) {
            self.service = service
            self.minVersion = minVersion
        }
    }

    public struct OptionDeclaration: Equatable, Sendable {
        public var name: String
        public var type: OptionType
        public var defaultValue: String?
        public var help: String
        public init(name: String, type: OptionType, defaultValue: String?, help: String) {
            self.name = name
            self.type = type
            self.defaultValue = defaultValue
            self.help = help
        }
    }

    public var name: String
    public var version: String
    public var summary: String
    public var abiMajor: UInt16
    public var abiMinor: UInt16
    public var requires: [Dependency]
    public var optional: [Dependency]
    public var provides: [Dependency]
    public var options: [OptionDeclaration]
    /// What dependency ordering and option resolution need, without the C descriptor.
    public var interface: PluginInterface {
        PluginInterface(name: name, requires: requires, optional: optional, provides: provides, options: options)
    }

    /// The raw descriptor, for the lifecycle callbacks; never read past `size`.
    let descriptor: UnsafePointer<chassis_plugin_descriptor>

    var initCallback: chassis_lifecycle_fn? { descriptor.pointee.`init` }
    var startCallback: chassis_lifecycle_fn? { descriptor.pointee.start }
    var stopCallback: chassis_teardown_fn? { descriptor.pointee.stop }
    var deinitCallback: chassis_teardown_fn? { descriptor.pointee.deinit }
    var reloadCallback: chassis_lifecycle_fn? {
        covers(\.reload) ? descriptor.pointee.reload : nil
    }

    private func covers<T>(_ field: KeyPath<chassis_plugin_descriptor, T>) -> Bool {
        guard let offset = MemoryLayout<chassis_plugin_descriptor>.offset(of: field) else { return false }
        return Int(descriptor.pointee.size) >= offset + MemoryLayout<T>.size
    }

    /// Validates the descriptor against the host's ABI and copies it.
    init(descriptor: UnsafePointer<chassis_plugin_descriptor>, file: String) throws {
        let d = descriptor.pointee
        let minimumSize = MemoryLayout<chassis_plugin_descriptor>.offset(of: \.reload)!
        guard d.size >= minimumSize else {
            throw ChassisError(.load, "\(file): descriptor too small (\(d.size) bytes, at least \(minimumSize) expected)")
        }
        guard d.abi_major == CHASSIS_ABI_MAJOR else {
            throw ChassisError(.load, "\(file): plugin ABI \(d.abi_major).\(d.abi_minor) is incompatible with the host's ABI \(CHASSIS_ABI_MAJOR).\(CHASSIS_ABI_MINOR) (major versions differ); rebuild the plugin against this chassis.h")
        }
        guard d.abi_minor <= CHASSIS_ABI_MINOR else {
            throw ChassisError(.load, "\(file): plugin ABI \(d.abi_major).\(d.abi_minor) is newer than the host's ABI \(CHASSIS_ABI_MAJOR).\(CHASSIS_ABI_MINOR); upgrade the chassis or rebuild the plugin against the older header")
        }
        guard let name = text(d.name), !name.isEmpty else {
            throw ChassisError(.load, "\(file): descriptor has no name")
        }
        self.descriptor = descriptor
        self.name = name
        self.version = text(d.version) ?? "?"
        self.summary = text(d.summary) ?? ""
        self.abiMajor = d.abi_major
        self.abiMinor = d.abi_minor
        self.requires = try Self.dependencies(d.requires, plugin: name)
        self.optional = try Self.dependencies(d.optional, plugin: name)
        self.provides = try Self.dependencies(d.provides, plugin: name)
        self.options = try Self.options(d.options, plugin: name)
    }

    private static func dependencies(_ list: UnsafePointer<UnsafePointer<chassis_dependency>?>?, plugin: String) throws -> [Dependency] {
        var result: [Dependency] = []
        guard var cursor = list else { return result }
        while let entry = cursor.pointee {
            guard entry.pointee.size >= MemoryLayout<chassis_dependency>.size, let service = text(entry.pointee.service) else {
                throw ChassisError(.load, "plugin \(plugin): malformed dependency entry")
            }
            result.append(Dependency(service: service, minVersion: entry.pointee.min_version))
            cursor += 1
        }
        return result
    }

    private static func options(_ list: UnsafePointer<UnsafePointer<chassis_option_decl>?>?, plugin: String) throws -> [OptionDeclaration] {
        var result: [OptionDeclaration] = []
        guard var cursor = list else { return result }
        while let entry = cursor.pointee {
            let decl = entry.pointee
            guard decl.size >= MemoryLayout<chassis_option_decl>.size, let name = text(decl.name),
                  let type = OptionType(rawValue: decl.type) else {
                throw ChassisError(.load, "plugin \(plugin): malformed option declaration")
            }
            result.append(OptionDeclaration(
                name: name, type: type,
                defaultValue: decl.default_value.map { String(cString: $0) },
                help: decl.help.map { String(cString: $0) } ?? ""))
            cursor += 1
        }
        return result
    }
}

/// A plugin may break its _Nonnull promises; a NULL string is an error, not a crash.
private func text(_ pointer: UnsafePointer<CChar>) -> String? {
    unsafeBitCast(pointer, to: UnsafePointer<CChar>?.self).map { String(cString: $0) }
}
