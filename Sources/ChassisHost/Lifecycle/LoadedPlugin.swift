import CChassis
import Foundation
import Logging

/// One plugin in the host: its manifest, its options, its lifecycle state and the context
/// its callbacks receive. The C handle (`chassis_plugin *`) is this object's address.
public final class LoadedPlugin: @unchecked Sendable {
    public enum State: String, Sendable {
        case loaded, initialized, started, stopped, failed
    }

    public let manifest: PluginManifest
    public let path: String
    public internal(set) var state: State = .loaded
    public internal(set) var options = ResolvedOptions()
    /// init returned OK and deinit has not run yet: stop and deinit are owed.
    var initSucceeded = false
    /// start was called (it may have failed): stop is owed.
    var startAttempted = false
    unowned let host: PluginHost
    let logger: Logger
    let context: UnsafeMutablePointer<chassis_context>
    /// Set by the plugin through set_error during the callback that is failing.
    var lastError: String?
    /// C copies of option values, alive until deinit as chassis.h promises.
    private var optionCStrings: [String: UnsafeMutablePointer<CChar>] = [:]
    private var retiredCStrings: [UnsafeMutablePointer<CChar>] = []
    private let optionLock = NSLock()

    public var name: String { manifest.name }

    init(manifest: PluginManifest, path: String, host: PluginHost, logger: Logger) {
        self.manifest = manifest
        self.path = path
        self.host = host
        self.logger = logger
        self.context = .allocate(capacity: 1)
        context.initialize(to: chassis_context(size: UInt32(MemoryLayout<chassis_context>.size), api: HostAPI.table,
                                               self: OpaquePointer(Unmanaged.passUnretained(self).toOpaque()),
                                               state: nil))
    }

    deinit {
        context.deallocate()
        freeOptionStrings()
    }

    var handle: OpaquePointer { context.pointee.`self` }

    static func from(_ handle: OpaquePointer) -> LoadedPlugin {
        Unmanaged<LoadedPlugin>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    func optionCString(_ name: String) -> UnsafePointer<CChar>? {
        optionLock.lock()
        defer { optionLock.unlock() }
        if let cached = optionCStrings[name] { return UnsafePointer(cached) }
        guard let value = options[name], let copy = strdup(value) else { return nil }
        optionCStrings[name] = copy
        return UnsafePointer(copy)
    }

    func replaceOptions(_ new: ResolvedOptions) {
        optionLock.lock()
        options = new
        // Old strings stay valid until deinit (a plugin may still hold them), but lookups
        // from now on see the new values.
        retiredCStrings += optionCStrings.values
        optionCStrings = [:]
        optionLock.unlock()
    }

    func freeOptionStrings() {
        optionLock.lock()
        for p in optionCStrings.values { free(p) }
        for p in retiredCStrings { free(p) }
        optionCStrings = [:]
        retiredCStrings = []
        optionLock.unlock()
    }

    /// Runs a lifecycle callback and turns a failure into a ChassisError naming the plugin.
    func run(_ callback: chassis_lifecycle_fn?, phase: String) throws {
        guard let callback else { return }
        lastError = nil
        let rc = callback(context)
        if rc != CHASSIS_OK {
            let reason = lastError ?? "returned error code \(rc)"
            throw ChassisError(.lifecycle, "plugin \(name) failed to \(phase): \(reason)")
        }
    }

    func run(_ callback: chassis_teardown_fn?) {
        callback?(context)
    }
}
