import XCTest
@testable import Pooling

extension PoolActions {
    var handOvers: [(request: RequestID, lease: Lease)] {
        compactMap { if case .handOver(let r, let l) = $0 { return (r, l) } else { return nil } }
    }
    var connects: [(id: ConnectionID, backend: BackendID, user: String)] {
        compactMap { if case .connect(let c, let b, let u) = $0 { return (c, b, u) } else { return nil } }
    }
    var closes: [(id: ConnectionID, reason: CloseReason)] {
        compactMap { if case .close(let c, let r) = $0 { return (c, r) } else { return nil } }
    }
    var resets: [ConnectionID] {
        compactMap { if case .reset(let c) = $0 { return c } else { return nil } }
    }
    var failures: [(request: RequestID, failure: PoolFailure)] {
        compactMap { if case .fail(let r, let f) = $0 { return (r, f) } else { return nil } }
    }
}

/// A pool with a mock clock and shorthand for the usual event sequences.
final class PoolHarness {
    let pool: ConnectionPool
    var now = PoolInstant(nanoseconds: 1_000_000_000)
    var nextRequest: UInt64 = 1

    init(_ configuration: PoolConfiguration = PoolConfiguration(), backends: [(BackendID, Int)] = [("db1", 10)]) {
        pool = ConnectionPool(configuration: configuration)
        for (id, max) in backends {
            _ = try! pool.addBackend(id, BackendConfiguration(maxConnections: max), now: now)
        }
    }

    func advance(_ duration: PoolDuration) { now = now + duration }

    func newRequest() -> RequestID {
        defer { nextRequest += 1 }
        return RequestID(nextRequest)
    }

    func acquire(_ request: RequestID? = nil, user: String = "app", database: String? = "shop",
                 backends: BackendSelection = ["db1"], timeout: PoolDuration? = nil,
                 file: StaticString = #filePath, line: UInt = #line) -> (RequestID, PoolActions) {
        let id = request ?? newRequest()
        let actions = try! pool.acquire(id, user: user, database: database, backends: backends, now: now, timeout: timeout)
        check(file: file, line: line)
        return (id, actions)
    }

    /// Acquire, completing any connect it triggers; returns the lease.
    func lease(user: String = "app", database: String? = "shop", backends: BackendSelection = ["db1"],
               file: StaticString = #filePath, line: UInt = #line) -> Lease {
        let (id, actions) = acquire(user: user, database: database, backends: backends, file: file, line: line)
        if let handed = actions.handOvers.first(where: { $0.request == id }) { return handed.lease }
        guard let connect = actions.connects.first else {
            XCTFail("neither hand-over nor connect: \(actions)", file: file, line: line)
            fatalError()
        }
        let established = established(connect.id, file: file, line: line)
        guard let handed = established.handOvers.first(where: { $0.request == id }) else {
            XCTFail("no hand-over after connect: \(established)", file: file, line: line)
            fatalError()
        }
        return handed.lease
    }

    @discardableResult
    func established(_ id: ConnectionID, schema: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> PoolActions {
        let actions = try! pool.connectionEstablished(id, now: now, schema: schema)
        check(file: file, line: line)
        return actions
    }

    @discardableResult
    func release(_ id: ConnectionID, _ disposition: ReleaseDisposition = .clean, file: StaticString = #filePath, line: UInt = #line) -> PoolActions {
        let actions = try! pool.release(id, disposition, now: now)
        check(file: file, line: line)
        return actions
    }

    @discardableResult
    func closed(_ id: ConnectionID, file: StaticString = #filePath, line: UInt = #line) -> PoolActions {
        let actions = try! pool.connectionClosed(id, now: now)
        check(file: file, line: line)
        return actions
    }

    @discardableResult
    func tick(file: StaticString = #filePath, line: UInt = #line) -> PoolActions {
        let actions = pool.tick(now: now)
        check(file: file, line: line)
        return actions
    }

    func check(file: StaticString = #filePath, line: UInt = #line) {
        let problems = pool.checkInvariants()
        XCTAssert(problems.isEmpty, "invariants: \(problems)", file: file, line: line)
    }

    var snapshot: PoolSnapshot { pool.snapshot() }

    func backend(_ id: BackendID) -> BackendStatistics? { snapshot.backends.first { $0.id == id } }
}
