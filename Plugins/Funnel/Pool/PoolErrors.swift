import MySQLWire
import Pooling

/// The ERR packets a client gets when the funnel cannot give it a backend connection.
/// The codes are the funnel's own (9001-9009, documented in docs/funnel.md), with the
/// SQL state a client library treats as "try again later".
enum PoolErrors {
    static let backlogTimeout: UInt16 = 9001
    static let backlogFull: UInt16 = 9002
    static let noBackend: UInt16 = 9003
    static let backendConnectFailed: UInt16 = 9004
    static let transactionLost: UInt16 = 9005
    /// At login: the user is not listed and looking it up on the backend (auth-user) failed.
    static let userLookupFailed: UInt16 = 9006
    static let backendLost: UInt16 = 2013

    static func packet(for failure: PoolFailure) -> ERRPacket {
        switch failure {
        case .timeout: return ERRPacket(errorCode: backlogTimeout, sqlState: "08004", message: describe(failure))
        case .backlogFull: return ERRPacket(errorCode: backlogFull, sqlState: "08004", message: describe(failure))
        case .noBackendAvailable: return ERRPacket(errorCode: noBackend, sqlState: "08S01", message: describe(failure))
        case .connectFailed: return ERRPacket(errorCode: backendConnectFailed, sqlState: "08S01", message: describe(failure))
        }
    }

    static func describe(_ failure: PoolFailure) -> String {
        switch failure {
        case .timeout(let waited, let pressure):
            return "funnel: no backend connection within \(seconds(waited)) s; \(describe(pressure))"
        case .backlogFull(let limit, let pressure):
            let which: String
            switch limit {
            case .global(let max): which = "the backlog is full (\(max) waiting)"
            case .user(let user, let max): which = "the backlog of user '\(user)' is full (\(max) waiting)"
            }
            return "funnel: \(which); \(describe(pressure))"
        case .noBackendAvailable:
            return "funnel: no backend is available (all down, draining or removed)"
        case .connectFailed(let backend, let user, let message):
            return "funnel: cannot connect to backend \(backend) as '\(user)': \(message)"
        }
    }

    private static func describe(_ p: PoolPressure) -> String {
        let scope: String
        switch p.limit {
        case .database(let db, let max)?: scope = "database '\(db)' at its limit of \(max) connections in use"
        case .user(let user, let max)?: scope = "user '\(user)' at its limit of \(max) backend connections"
        case .backend(let backend, let max)?: scope = "backend \(backend) at its limit of \(max) connections"
        case .global(let max)?: scope = "all backends at the global limit of \(max) connections"
        case nil: scope = "pool \(p.user)@\(p.backend.map(\.name) ?? "?")"
        }
        return "\(scope): \(p.inUse) in use, \(p.open) open, \(p.waiting) waiting (user '\(p.user)'\(p.database.map { ", database '\($0)'" } ?? ""))"
    }

    private static func seconds(_ d: PoolDuration) -> String {
        String(format: "%.1f", Double(d.nanoseconds) / 1e9)
    }
}

import Foundation
