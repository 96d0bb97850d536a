import XCTest
@testable import Pooling

final class ConnectionStateTests: XCTestCase {
    func testMoveTableIsExactlyTheDocumentedOne() {
        let valid: Set<String> = [
            "nil>connecting", "connecting>idle", "connecting>nil", "idle>leased", "idle>closing",
            "leased>idle", "leased>resetting", "leased>closing", "resetting>idle", "resetting>closing", "closing>nil",
        ]
        let states: [ConnectionState?] = [nil] + ConnectionState.allCases.map { $0 }
        for from in states {
            for to in states {
                let name = "\(from?.rawValue ?? "nil")>\(to?.rawValue ?? "nil")"
                XCTAssertEqual(ConnectionState.isValidMove(from: from, to: to), valid.contains(name), name)
            }
        }
    }

    func testInvalidEventsAreRejectedAndLeaveThePoolUnchanged() throws {
        let h = PoolHarness()
        let (_, actions) = h.acquire()
        let conn = try XCTUnwrap(actions.connects.first).id
        let now = h.now
        // connecting: only established/failed/lost are valid
        XCTAssertThrowsError(try h.pool.release(conn, now: now)) {
            XCTAssertEqual($0 as? PoolError, .invalidTransition(conn, from: .connecting, to: .idle))
        }
        XCTAssertThrowsError(try h.pool.resetCompleted(conn, ok: true, now: now))
        XCTAssertThrowsError(try h.pool.connectionClosed(conn, now: now)) {
            XCTAssertEqual($0 as? PoolError, .invalidTransition(conn, from: .connecting, to: nil))
        }
        h.established(conn) // -> idle -> leased (handed over)
        XCTAssertEqual(h.pool.connectionInfo(conn)?.state, .leased)
        // leased
        XCTAssertThrowsError(try h.pool.connectionEstablished(conn, now: now)) {
            XCTAssertEqual($0 as? PoolError, .invalidTransition(conn, from: .leased, to: .idle))
        }
        XCTAssertThrowsError(try h.pool.connectionFailed(conn, now: now, error: "x"))
        XCTAssertThrowsError(try h.pool.resetCompleted(conn, ok: false, now: now)) {
            XCTAssertEqual($0 as? PoolError, .invalidTransition(conn, from: .leased, to: .closing))
        }
        XCTAssertThrowsError(try h.pool.connectionClosed(conn, now: now))
        h.release(conn)
        // idle
        XCTAssertEqual(h.pool.connectionInfo(conn)?.state, .idle)
        for disposition in [ReleaseDisposition.clean, .needsReset, .close] {
            XCTAssertThrowsError(try h.pool.release(conn, disposition, now: now))
        }
        XCTAssertThrowsError(try h.pool.resetCompleted(conn, ok: true, now: now))
        XCTAssertThrowsError(try h.pool.connectionClosed(conn, now: now))
        XCTAssertThrowsError(try h.pool.connectionEstablished(conn, now: now))
        // resetting
        let again = h.lease()
        XCTAssertEqual(again.connection, conn)
        XCTAssertEqual(h.release(conn, .needsReset).resets, [conn])
        XCTAssertThrowsError(try h.pool.release(conn, now: now)) {
            XCTAssertEqual($0 as? PoolError, .invalidTransition(conn, from: .resetting, to: .idle))
        }
        XCTAssertThrowsError(try h.pool.connectionClosed(conn, now: now))
        _ = try h.pool.resetCompleted(conn, ok: false, now: now)
        // closing
        XCTAssertEqual(h.pool.connectionInfo(conn)?.state, .closing)
        XCTAssertThrowsError(try h.pool.release(conn, .close, now: now))
        XCTAssertThrowsError(try h.pool.resetCompleted(conn, ok: true, now: now))
        XCTAssertThrowsError(try h.pool.connectionEstablished(conn, now: now))
        h.closed(conn)
        // removed
        XCTAssertNil(h.pool.connectionInfo(conn))
        XCTAssertThrowsError(try h.pool.connectionClosed(conn, now: now)) {
            XCTAssertEqual($0 as? PoolError, .unknownConnection(conn))
        }
        XCTAssertThrowsError(try h.pool.release(conn, now: now))
        h.check()
        XCTAssertEqual(h.snapshot.connections.total, 0)
    }

    func testDuplicateWaitingRequestIsRejected() throws {
        let h = PoolHarness()
        let (id, _) = h.acquire()
        XCTAssertThrowsError(try h.pool.acquire(id, user: "app", database: nil, backends: ["db1"], now: h.now)) {
            XCTAssertEqual($0 as? PoolError, .duplicateRequest(id))
        }
        XCTAssertEqual(h.pool.waitingCount, 1)
    }

    func testConnectionLostFromEveryState() throws {
        let h = PoolHarness()
        // connecting: counts as a failed connect and fails its request
        let (r1, a1) = h.acquire()
        let c1 = try XCTUnwrap(a1.connects.first).id
        let lost = try h.pool.connectionLost(c1, now: h.now)
        XCTAssertEqual(lost.failures.first?.request, r1)
        // leased, idle
        let l2 = h.lease()
        _ = try h.pool.connectionLost(l2.connection, now: h.now)
        let l3 = h.lease()
        h.release(l3.connection)
        _ = try h.pool.connectionLost(l3.connection, now: h.now)
        h.check()
        XCTAssertEqual(h.snapshot.connections.total, 0)
        XCTAssertEqual(h.backend("db1")?.counters.closes[.lost], 2)
    }
}
