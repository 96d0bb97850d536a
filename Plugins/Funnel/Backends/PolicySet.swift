import NIOConcurrencyHelpers

/// The policies other plugins registered through funnel.backends (hooks consulted when a
/// backend is chosen). They outlive the running funnel: a plugin may register before it starts.
final class PolicySet: @unchecked Sendable {
    struct Policy {
        var veto: (@convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<CChar>?) -> Int32)?
        var cap: (@convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>, UnsafePointer<CChar>) -> UInt32)?
        var user: UnsafeMutableRawPointer?
    }

    private let lock = NIOLock()
    private var policies: [UInt64: Policy] = [:]
    private var nextID: UInt64 = 1
    /// Read first on the hot path: with no policy registered nothing else is done.
    private(set) var isEmpty = true

    func add(_ policy: Policy) -> UInt64 {
        lock.withLock {
            let id = nextID
            nextID += 1
            policies[id] = policy
            isEmpty = false
            return id
        }
    }

    func remove(_ id: UInt64) {
        lock.withLock {
            policies[id] = nil
            isEmpty = policies.isEmpty
        }
    }

    var all: [Policy] { lock.withLock { Array(policies.values) } }
}
