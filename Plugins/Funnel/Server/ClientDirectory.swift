import NIOConcurrencyHelpers

/// Every connected client, for inspection (admin's clients table) and KILL.
final class ClientDirectory: @unchecked Sendable {
    private let lock = NIOLock()
    private var sessions: [UInt32: ClientSession] = [:]
    private var nextID: UInt32 = 1

    func makeID() -> UInt32 {
        lock.withLock {
            defer { nextID = nextID == UInt32.max ? 1 : nextID + 1 }
            return nextID
        }
    }

    func add(_ session: ClientSession) { lock.withLock { sessions[session.id] = session } }
    func remove(_ session: ClientSession) { lock.withLock { sessions[session.id] = nil } }
    var count: Int { lock.withLock { sessions.count } }
    var all: [ClientSession] { lock.withLock { Array(sessions.values) } }
}
