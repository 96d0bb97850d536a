import Foundation

/// The object behind a funnel service's `instance` pointer: it outlives start/stop (services
/// are registered at init), so it holds the runtime only while the funnel runs.
final class ServiceInstance: @unchecked Sendable {
    private let lock = NSLock()
    private var _runtime: FunnelRuntime?
    let policies = PolicySet()
    /// Runs the plugin's reload (for control's set_option, which goes through the same path).
    var applyOption: ((String, String) throws -> Void)?

    var runtime: FunnelRuntime? {
        get { lock.lock(); defer { lock.unlock() }; return _runtime }
        set { lock.lock(); _runtime = newValue; lock.unlock() }
    }

    var pointer: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ instance: UnsafeMutableRawPointer?) -> ServiceInstance {
        Unmanaged<ServiceInstance>.fromOpaque(instance!).takeUnretainedValue()
    }
}

/// Writes an error message into a C buffer (always NUL-terminated) and returns CHASSIS_ERR.
func failService(_ message: String, _ err: UnsafeMutablePointer<CChar>, _ size: Int) -> Int32 {
    guard size > 0 else { return 1 }
    let bytes = Array(message.utf8.prefix(size - 1))
    bytes.withUnsafeBufferPointer { buffer in
        for (i, b) in buffer.enumerated() { err[i] = CChar(bitPattern: b) }
    }
    err[bytes.count] = 0
    return 1
}
