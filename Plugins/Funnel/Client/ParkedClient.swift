import MySQLWire
import NIOCore
import Pooling
import SocketParking

/// What a parked client's session needs back when it wakes: the login, the session state the
/// funnel tracks, and its socket. A plain value, stored inline in the parking lot's table, so
/// that parking frees every object the client had (channel, pipeline, session) and the pages
/// they filled can go back to the system. (Unchecked: the script handle belongs to the Lua state
/// of the client's event loop; the funnel uses it only there, parked or not.)
struct ParkedClient: ParkableSocket, @unchecked Sendable {
    let id: UInt32
    /// The funnel's own duplicate of the client socket (the channel's was closed).
    let socket: Int32
    /// The event loop the client lived on; it wakes up there, near its pooled connections.
    let loopIndex: Int
    let user: String
    let database: String?
    let address: String
    let capabilities: CapabilityFlags
    let handshakeCollation: UInt8
    let poolMode: PoolMode
    let readWriteSplit: Bool
    let variables: SessionVariables
    let lastStatus: ServerStatusFlags
    let lastInsertID: UInt64
    let lastWrite: NIODeadline?
    /// The greeting's nonce, which COM_CHANGE_USER answers are checked against.
    let nonce: Nonce
    /// The lua plugin's state for this connection, which lives on while parked.
    let script: OpaquePointer?
    let scriptIsServer: Bool

    var parkingID: UInt32 { id }

    /// How the clients table shows a parked client.
    var snapshot: ClientSnapshot {
        var s = ClientSnapshot()
        s.user = user
        s.address = address
        s.database = database ?? ""
        s.activity = .parked
        return s
    }

    /// The 20 bytes of a greeting nonce, kept inline (an array would be one more allocation).
    struct Nonce: Sendable {
        private var head: (UInt64, UInt64) = (0, 0)
        private var tail: UInt32 = 0

        init(_ bytes: [UInt8]) {
            precondition(bytes.count == 20, "a nonce has 20 bytes")
            withUnsafeMutableBytes(of: &head) { $0.copyBytes(from: bytes[0..<16]) }
            withUnsafeMutableBytes(of: &tail) { $0.copyBytes(from: bytes[16..<20]) }
        }

        var bytes: [UInt8] {
            withUnsafeBytes(of: head) { Array($0) } + withUnsafeBytes(of: tail) { Array($0) }
        }
    }
}

/// Clients idle past `client-park-after`, outside the event loops.
typealias ClientParkingLot = SocketParkingLot<ParkedClient>
