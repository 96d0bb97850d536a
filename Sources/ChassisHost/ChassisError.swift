/// Every way the host refuses to go on. The message is what the user reads; the exit
/// status groups the failures so scripts can tell a typo from a broken plugin.
public struct ChassisError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        case usage        // unknown or malformed option, unreadable config
        case load         // file missing, not a library, no entry symbol, wrong ABI
        case dependency   // required service missing, cycle, duplicate plugin
        case lifecycle    // init or start failed
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Documented in the README: 2 usage, 3 load, 4 dependency, 5 lifecycle.
    public var exitStatus: Int32 {
        switch kind {
        case .usage: return 2
        case .load: return 3
        case .dependency: return 4
        case .lifecycle: return 5
        }
    }
}
