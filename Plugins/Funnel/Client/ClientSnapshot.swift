import NIOConcurrencyHelpers
import MySQLWire
import NIOCore

/// What the clients table shows of a session, kept current by the session itself (under a
/// small lock, a few times per statement) so a reader on another thread never races it.
struct ClientSnapshot: Sendable {
    var user = ""
    var address = ""
    var database = ""
    var activity = Activity.authenticating
    var state: String { activity.rawValue }
    var pinned = ""
    var backend = ""
    var backendThreadID: UInt32 = 0
    /// The running command's first packet (a slice, no copy); its text is made only when read.
    var command: ByteBuffer?
    var queryStarted: NIODeadline?

    enum Activity: String, Sendable {
        case authenticating, waiting, active, idle, parked
        case inTransaction = "in_transaction"
    }

    /// The statement for display: a COM_QUERY's first 1 KiB, or the command's name.
    var query: String {
        guard var payload = command, let code = payload.readInteger(as: UInt8.self) else { return "" }
        if code == CommandCode.query.rawValue { return payload.readString(length: min(payload.readableBytes, 1024)) ?? "" }
        return "\(CommandCode(rawValue: code))"
    }
}

final class ClientSnapshotBox: @unchecked Sendable {
    private let lock = NIOLock()
    private var value = ClientSnapshot()

    func update(_ body: (inout ClientSnapshot) -> Void) { lock.withLock { body(&value) } }
    var current: ClientSnapshot { lock.withLock { value } }
}
