import CChassis
import CLTDL
import Foundation

/// Finds a plugin's file, opens it through libltdl (RTLD_LOCAL), calls its one entry symbol
/// and validates the descriptor. Every loaded library is made resident: Swift plugins cannot
/// be unloaded safely, and a plugin's pointers (services, callbacks) outlive any unload anyway.
public struct PluginLoader {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
        _ = Self.ltdlReady
    }

    private static let ltdlReady: Bool = { lt_dlinit() == 0 }()

    /// Names map to DIR/libNAME.so, then DIR/NAME.so; a name with a slash is a path.
    public func candidates(for name: String) -> [String] {
        if name.contains("/") { return [name] }
        return ["\(directory)/lib\(name).so", "\(directory)/\(name).so"]
    }

    public func load(_ name: String) throws -> (path: String, manifest: PluginManifest) {
        let tried = candidates(for: name)
        guard let path = tried.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ChassisError(.load, "plugin \(name): no such file (looked for \(tried.joined(separator: ", ")))")
        }
        return (path, try open(path: path))
    }

    public func open(path: String) throws -> PluginManifest {
        // libltdl binds lazily: a plugin with an unresolved symbol would load and then kill the
        // process when it first calls it. Resolving everything now (RTLD_NOW, still local) turns
        // that into a load error; the handle is kept, as every plugin stays resident anyway.
        guard dlopen(path, RTLD_NOW | RTLD_LOCAL) != nil else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw ChassisError(.load, "\(path): not a loadable shared library: \(reason)")
        }
        guard let handle = lt_dlopen(path) else {
            throw ChassisError(.load, "\(path): not a loadable shared library: \(Self.lastError())")
        }
        lt_dlmakeresident(handle)
        guard let symbol = lt_dlsym(handle, CHASSIS_ENTRY_SYMBOL) else {
            throw ChassisError(.load, "\(path): no '\(CHASSIS_ENTRY_SYMBOL)' symbol; it is not a chassis plugin")
        }
        let entry = unsafeBitCast(symbol, to: chassis_entry_fn.self)
        guard let descriptor = entry(UInt32(CHASSIS_ABI_MAJOR), UInt32(CHASSIS_ABI_MINOR)) else {
            throw ChassisError(.load, "\(path): the plugin refused the host's ABI \(CHASSIS_ABI_MAJOR).\(CHASSIS_ABI_MINOR)")
        }
        return try PluginManifest(descriptor: descriptor, file: path)
    }

    /// Every file in the directory that loads as a plugin, and why the others did not.
    public func scan() -> [(path: String, result: Result<PluginManifest, ChassisError>)] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".so") }.sorted().map { file in
            let path = "\(directory)/\(file)"
            do { return (path, .success(try open(path: path))) } catch let error as ChassisError { return (path, .failure(error)) } catch {
                return (path, .failure(ChassisError(.load, "\(path): \(error)")))
            }
        }
    }

    private static func lastError() -> String {
        lt_dlerror().map { String(cString: $0) } ?? "unknown error"
    }
}
