import NIOConcurrencyHelpers
import NIOCore

/// What the clients table shows of a session, kept current by the session itself (under a
/// small lock, a few times per statement) so a reader on another thread never races it.
struct ClientSnapshot: Sendable {
    var user = ""
    var address = ""
    var database = ""
    var state = "authenticating"
    var pinned = ""
    var backend = ""
    var backendThreadID: UInt32 = 0
    var query = ""
    var queryStarted: NIODeadline?
}

final class ClientSnapshotBox: @unchecked Sendable {
    private let lock = NIOLock()
    private var value = ClientSnapshot()

    func update(_ body: (inout ClientSnapshot) -> Void) { lock.withLock { body(&value) } }
    var current: ClientSnapshot { lock.withLock { value } }
}
