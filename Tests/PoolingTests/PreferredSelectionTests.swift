import Pooling
import XCTest

/// `.preferred`: the balancer's first choice wins whenever it can serve at once, even when
/// another candidate has an idle connection; the others are fall-backs.
final class PreferredSelectionTests: XCTestCase {
    private var now = PoolInstant(nanoseconds: 1)

    private func open(_ pool: ConnectionPool, _ request: RequestID, _ selection: BackendSelection) throws -> ConnectionID {
        let actions = try pool.acquire(request, user: "app", database: nil, backends: selection, now: now)
        guard case .connect(let id, _, _)? = actions.first else { XCTFail("\(actions)"); return ConnectionID(0) }
        _ = try pool.connectionEstablished(id, now: now)
        return id
    }

    func testFirstChoiceOpensEvenWhenAnotherHasIdle() throws {
        let pool = ConnectionPool()
        _ = try pool.addBackend("a", BackendConfiguration(maxConnections: 2), now: now)
        _ = try pool.addBackend("b", BackendConfiguration(maxConnections: 2), now: now)
        let onA = try open(pool, 1, .preferred(["a", "b"]))
        _ = try pool.release(onA, now: now)
        // a has an idle connection, but b is preferred and has room: a connection to b opens.
        let actions = try pool.acquire(2, user: "app", database: nil, backends: .preferred(["b", "a"]), now: now)
        guard case .connect(_, let backend, _)? = actions.first else { return XCTFail("\(actions)") }
        XCTAssertEqual(backend, "b")
        // With .ordered the idle connection on a would have been reused.
        let reuse = try pool.acquire(3, user: "app", database: nil, backends: .ordered(["b", "a"]), now: now)
        guard case .handOver(_, let lease)? = reuse.first else { return XCTFail("\(reuse)") }
        XCTAssertEqual(lease.backend, "a")
    }

    func testFallsBackWhenTheFirstChoiceIsFull() throws {
        let pool = ConnectionPool()
        _ = try pool.addBackend("a", BackendConfiguration(maxConnections: 1), now: now)
        _ = try pool.addBackend("b", BackendConfiguration(maxConnections: 1), now: now)
        _ = try open(pool, 1, .preferred(["a", "b"]))          // a is now full (leased)
        let onB = try open(pool, 2, .preferred(["b", "a"]))
        _ = try pool.release(onB, now: now)
        // a is preferred but full: the idle connection on b serves at once.
        let actions = try pool.acquire(3, user: "app", database: nil, backends: .preferred(["a", "b"]), now: now)
        guard case .handOver(_, let lease)? = actions.first else { return XCTFail("\(actions)") }
        XCTAssertEqual(lease.backend, "b")
    }
}
