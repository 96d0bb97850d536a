import XCTest
@testable import Pooling

final class PoolLifecycleTests: XCTestCase {
    func testBacklogFullIsRefusedAtOnceWithNumbers() throws {
        let h = PoolHarness(PoolConfiguration(maxWaiting: 3, maxWaitingPerUser: 2), backends: [("db1", 1)])
        _ = h.lease(user: "u")
        _ = h.acquire(user: "u")
        _ = h.acquire(user: "u")
        let (r, refused) = h.acquire(user: "u")
        XCTAssertEqual(refused.failures.count, 1)
        XCTAssertEqual(refused.failures.first?.request, r)
        XCTAssertEqual(refused.failures.first?.failure, .backlogFull(.user("u", max: 2), PoolPressure(
            limit: .backend("db1", max: 1), backend: "db1", user: "u", database: "shop", inUse: 1, open: 1, waiting: 2)))
        XCTAssertFalse(h.pool.isWaiting(r))
        _ = h.acquire(user: "v")
        let (_, global) = h.acquire(user: "w", database: nil)
        guard case .backlogFull(.global(max: 3), let pressure)? = global.failures.first?.failure else {
            return XCTFail("\(global)")
        }
        XCTAssertEqual(pressure.limit, .backend("db1", max: 1))
        XCTAssertEqual(pressure.waiting, 3)
        XCTAssertEqual(h.snapshot.requests.refusals, 2)
    }

    func testTimeoutFailsWaiterWithWaitedTimeAndPoolNumbers() throws {
        let h = PoolHarness(PoolConfiguration(maxInUsePerDatabase: 1, waitTimeout: .seconds(5)))
        _ = h.lease(database: "shop")
        let (r1, _) = h.acquire(database: "shop")
        h.advance(.seconds(1))
        let (r2, _) = h.acquire(database: "shop", timeout: .milliseconds(500))
        h.advance(.milliseconds(499))
        XCTAssertTrue(h.tick().isEmpty)
        h.advance(.milliseconds(1))
        let first = h.tick().failures
        XCTAssertEqual(first.map(\.request), [r2])
        XCTAssertEqual(first.first?.failure, .timeout(waited: .milliseconds(500), PoolPressure(
            limit: .database("shop", max: 1), backend: "db1", user: "app", database: "shop", inUse: 1, open: 1, waiting: 2)))
        h.advance(.seconds(4))
        XCTAssertEqual(h.tick().failures.map(\.request), [r1])
        XCTAssertEqual(h.pool.waitingCount, 0)
        XCTAssertEqual(h.snapshot.requests.timeouts, 2)
    }

    func testNextDeadline() {
        let h = PoolHarness(PoolConfiguration(waitTimeout: .seconds(5)), backends: [("db1", 0)])
        XCTAssertNil(h.pool.nextDeadline)
        _ = h.acquire()
        _ = h.acquire(timeout: .seconds(1))
        XCTAssertEqual(h.pool.nextDeadline, h.now + .seconds(1))
    }

    func testConnectFailureFailsItsRequestAndFreesTheSlot() throws {
        let h = PoolHarness(backends: [("db1", 1)])
        let (r1, a1) = h.acquire()
        let c1 = try XCTUnwrap(a1.connects.first).id
        let (r2, a2) = h.acquire()
        XCTAssertTrue(a2.isEmpty)
        let failed = try h.pool.connectionFailed(c1, now: h.now, error: "Access denied")
        h.check()
        XCTAssertEqual(failed.failures.map(\.request), [r1])
        XCTAssertEqual(failed.failures.first?.failure, .connectFailed(backend: "db1", user: "app", message: "Access denied"))
        // the freed slot goes to the next request at once
        let c2 = try XCTUnwrap(failed.connects.first).id
        XCTAssertEqual(h.established(c2).handOvers.map(\.request), [r2])
        let stats = try XCTUnwrap(h.backend("db1"))
        XCTAssertEqual(stats.counters.connectsFailed, 1)
        XCTAssertEqual(stats.counters.connectsSucceeded, 1)
    }

    func testConnectFailureMovesTheRequestToAnotherCandidateOnce() throws {
        let h = PoolHarness(backends: [("db1", 4), ("db2", 4)])
        let (r1, a1) = h.acquire(backends: .preferred(["db1", "db2"]))
        let first = try XCTUnwrap(a1.connects.first)
        XCTAssertEqual(first.backend, "db1")
        // db1 refuses: the request tries db2 instead of failing.
        let moved = try h.pool.connectionFailed(first.id, now: h.now, error: "Connection refused")
        h.check()
        XCTAssertTrue(moved.failures.isEmpty)
        let second = try XCTUnwrap(moved.connects.first)
        XCTAssertEqual(second.backend, "db2")
        // db2 refuses too: no candidate is left that it has not failed on, so it fails.
        let failed = try h.pool.connectionFailed(second.id, now: h.now, error: "Access denied")
        h.check()
        XCTAssertTrue(failed.connects.isEmpty)
        XCTAssertEqual(failed.failures.map(\.request), [r1])
        XCTAssertEqual(failed.failures.first?.failure, .connectFailed(backend: "db2", user: "app", message: "Access denied"))
        // A single candidate: the request fails at once, as before.
        let (r2, a2) = h.acquire(backends: ["db1"])
        let only = try XCTUnwrap(a2.connects.first)
        XCTAssertEqual(try h.pool.connectionFailed(only.id, now: h.now, error: "boom").failures.map(\.request), [r2])
    }

    /// One connection in use (`inUse`) and a second request (`waiting`) whose own connect the
    /// server refused (`refused`: what the pool answered to that).
    private func secondConnectRefused() throws -> (h: PoolHarness, inUse: ConnectionID, waiting: RequestID, refused: PoolActions) {
        let h = PoolHarness(PoolConfiguration(waitTimeout: .seconds(5)), backends: [("db1", 2)])
        let (r1, a1) = h.acquire()
        let c1 = try XCTUnwrap(a1.connects.first).id
        XCTAssertEqual(h.established(c1).handOvers.map(\.request), [r1])
        let (r2, a2) = h.acquire()
        let refused = try h.pool.connectionFailed(XCTUnwrap(a2.connects.first).id, now: h.now, error: "Too many connections")
        h.check()
        return (h, c1, r2, refused)
    }

    func testConnectFailureWaitsForAConnectionInUseToComeBack() throws {
        let (h, c1, r2, refused) = try secondConnectRefused()
        XCTAssertTrue(refused.failures.isEmpty)
        XCTAssertTrue(refused.connects.isEmpty)   // no second try on the backend it failed on
        XCTAssertEqual(h.pool.waitingCount, 1)
        XCTAssertEqual(try h.pool.release(c1, now: h.now).handOvers.map(\.request), [r2])
        // With nothing in use to wait for, a refused connect fails its request at once.
        _ = try h.pool.release(c1, .close, now: h.now)
        h.check()
        let (r3, a3) = h.acquire()
        let c3 = try XCTUnwrap(a3.connects.first).id
        XCTAssertEqual(try h.pool.connectionFailed(c3, now: h.now, error: "Too many connections").failures.map(\.request), [r3])
    }

    func testConnectFailureWaitsOnlyUntilTheBacklogTimeout() throws {
        let (h, _, r2, refused) = try secondConnectRefused()
        XCTAssertTrue(refused.failures.isEmpty)
        h.advance(.seconds(6))
        let expired = h.tick()
        XCTAssertEqual(expired.failures.map(\.request), [r2])
        guard case .timeout = expired.failures.first?.failure else { return XCTFail("\(expired.failures)") }
    }

    func testConnectFailureFallsBackToAnotherConnectUnderWay() throws {
        let h = PoolHarness(backends: [("db1", 2)])
        let (r1, a1) = h.acquire()
        let c1 = try XCTUnwrap(a1.connects.first).id
        let (r2, a2) = h.acquire()
        let c2 = try XCTUnwrap(a2.connects.first).id
        XCTAssertTrue(h.pool.cancel(r2, now: h.now).isEmpty) // c2 is now an orphan
        let failed = try h.pool.connectionFailed(c1, now: h.now, error: "boom")
        XCTAssertTrue(failed.failures.isEmpty, "r1 adopts c2 instead of failing")
        XCTAssertEqual(h.established(c2).handOvers.map(\.request), [r1])
    }

    func testResetPath() throws {
        let h = PoolHarness()
        let l = h.lease()
        XCTAssertEqual(h.release(l.connection, .needsReset).resets, [l.connection])
        XCTAssertEqual(h.pool.connectionInfo(l.connection)?.state, .resetting)
        // a request arriving meanwhile does not get the resetting connection
        let (r, waiting) = h.acquire()
        let extra = try XCTUnwrap(waiting.connects.first).id
        let done = try h.pool.resetCompleted(l.connection, ok: true, now: h.now)
        h.check()
        XCTAssertEqual(done.handOvers.map(\.request), [r])
        XCTAssertEqual(done.handOvers.first?.lease.connection, l.connection)
        h.established(extra) // the orphaned connect just becomes idle
        XCTAssertEqual(h.snapshot.connections.idle, 1)
        // failed reset closes
        XCTAssertEqual(h.release(l.connection, .needsReset).resets, [l.connection])
        let bad = try h.pool.resetCompleted(l.connection, ok: false, now: h.now)
        XCTAssertEqual(bad.closes.map(\.reason), [.resetFailed])
        let stats = try XCTUnwrap(h.snapshot.pools.first).counters
        XCTAssertEqual(stats.resets, 2)
        XCTAssertEqual(stats.resetFailures, 1)
    }

    func testCloseDispositionNeverHandsOn() throws {
        let h = PoolHarness(backends: [("db1", 1)])
        let l = h.lease()
        let (r, _) = h.acquire()
        let released = h.release(l.connection, .close)
        XCTAssertEqual(released.closes.map(\.id), [l.connection])
        XCTAssertEqual(released.closes.first?.reason, .discarded)
        XCTAssertTrue(released.handOvers.isEmpty)
        XCTAssertTrue(released.connects.isEmpty, "closing still holds the slot")
        let closed = h.closed(l.connection)
        let c = try XCTUnwrap(closed.connects.first).id
        XCTAssertNotEqual(c, l.connection)
        XCTAssertEqual(h.established(c).handOvers.map(\.request), [r])
    }

    func testIdleTimeoutKeepsMinIdle() throws {
        let h = PoolHarness(PoolConfiguration(idleTimeout: .seconds(60), minIdlePerPool: 1))
        let leases = (0..<3).map { _ in h.lease() }
        for l in leases { h.release(l.connection); h.advance(.seconds(1)) }
        h.advance(.seconds(56)) // first released 59 s ago
        XCTAssertTrue(h.tick().isEmpty)
        h.advance(.seconds(1))
        XCTAssertEqual(h.tick().closes.map(\.id), [leases[0].connection])
        h.advance(.seconds(10))
        let closes = h.tick().closes
        XCTAssertEqual(closes.map(\.id), [leases[1].connection], "the last one stays for min idle")
        XCTAssertEqual(closes.first?.reason, .idleTimeout)
    }

    func testMaxLifetimeClosesIdleAndOnRelease() throws {
        let h = PoolHarness(PoolConfiguration(maxLifetime: .seconds(100)))
        let a = h.lease()
        let b = h.lease()
        h.release(a.connection)
        h.advance(.seconds(100))
        XCTAssertEqual(h.tick().closes.map(\.reason), [.maxLifetime])
        XCTAssertEqual(h.release(b.connection).closes.map(\.reason), [.maxLifetime])
        XCTAssertEqual(h.release(h.lease().connection, .needsReset).closes.count, 0) // new one is young
    }

    func testMinIdleWarmsPoolsAndWarmConnectsServeRequests() throws {
        let h = PoolHarness(PoolConfiguration(minIdlePerPool: 2), backends: [])
        _ = try h.pool.addBackend("db1", BackendConfiguration(maxConnections: 3, warmUsers: ["app"]), now: h.now)
        let warm = h.tick().connects
        XCTAssertEqual(warm.count, 2)
        XCTAssertTrue(h.tick().isEmpty, "connecting ones count toward min idle")
        // a request arriving while warm connects are under way adopts one instead of opening a third
        let (r, actions) = h.acquire()
        XCTAssertTrue(actions.isEmpty)
        XCTAssertEqual(h.established(warm[0].id).handOvers.map(\.request), [r])
        h.established(warm[1].id)
        XCTAssertEqual(h.tick().connects.count, 1, "one more to get back to two idle")
    }

    func testDrainBackendClosesIdleNowAndLeasedOnRelease() throws {
        let h = PoolHarness(backends: [("db1", 5), ("db2", 5)])
        let leased = h.lease()
        let idle = h.lease()
        h.release(idle.connection)
        let (_, reuse) = h.acquire() // takes the idle one
        let busy = try XCTUnwrap(reuse.handOvers.first).lease
        let (onlyDb1, pend) = h.acquire()
        let pendingConn = try XCTUnwrap(pend.connects.first).id
        let (both, bothActions) = h.acquire(backends: ["db1", "db2"])
        let orphan = try XCTUnwrap(bothActions.connects.first).id
        let drain = try h.pool.drainBackend("db1", now: h.now)
        h.check()
        XCTAssertEqual(drain.failures.map(\.request), [onlyDb1])
        XCTAssertEqual(drain.failures.first?.failure, .noBackendAvailable)
        XCTAssertEqual(drain.closes.map(\.id), [], "nothing was idle")
        // the request that also accepts db2 stops waiting for its db1 connect and opens on db2
        let moved = try XCTUnwrap(drain.connects.first)
        XCTAssertEqual(moved.backend, "db2")
        XCTAssertEqual(h.established(moved.id).handOvers.map(\.request), [both])
        XCTAssertEqual(h.release(leased.connection).closes.map(\.reason), [.backendUnavailable])
        XCTAssertEqual(h.release(busy.connection).closes.map(\.reason), [.backendUnavailable])
        XCTAssertEqual(h.established(pendingConn).closes.map(\.reason), [.backendUnavailable])
        XCTAssertEqual(h.backend("db1")?.connections.closing, 3)
        XCTAssertEqual(h.backend("db1")?.connections.connecting, 1, "the connect nobody waits for any more")
        XCTAssertEqual(h.acquire(backends: ["db1"]).1.failures.first?.failure, .noBackendAvailable)
        // un-drain: accepting again; a new request adopts the connect still under way
        _ = try h.pool.updateBackend("db1", BackendConfiguration(maxConnections: 5), now: h.now)
        let (late, lateActions) = h.acquire(backends: ["db1"])
        XCTAssertTrue(lateActions.isEmpty)
        XCTAssertEqual(h.established(orphan).handOvers.map(\.request), [late])
    }

    func testRemoveBackendWithConnectionsInUse() throws {
        let h = PoolHarness(backends: [("db1", 5)])
        let a = h.lease()
        let b = h.lease()
        let c = h.lease()
        h.release(c.connection)
        let removal = try h.pool.removeBackend("db1", now: h.now)
        XCTAssertEqual(removal.closes.map(\.id), [c.connection])
        XCTAssertThrowsError(try h.pool.updateBackend("db1", BackendConfiguration(maxConnections: 1), now: h.now))
        XCTAssertEqual(h.acquire().1.failures.first?.failure, .noBackendAvailable)
        h.closed(c.connection)
        XCTAssertEqual(h.release(a.connection).closes.map(\.reason), [.backendUnavailable])
        XCTAssertEqual(h.release(b.connection, .needsReset).closes.map(\.reason), [.backendUnavailable])
        h.closed(a.connection)
        XCTAssertEqual(h.backend("db1")?.connections.total, 1)
        h.closed(b.connection)
        XCTAssertNil(h.backend("db1"), "forgotten once its last connection is gone")
        XCTAssertEqual(h.pool.backendIDs, [])
        XCTAssertEqual(h.snapshot.connections.total, 0)
        // and it can come back
        _ = try h.pool.addBackend("db1", BackendConfiguration(maxConnections: 1), now: h.now)
        XCTAssertEqual(h.acquire().1.connects.count, 1)
    }

    func testAddBackendAtRuntimeServesWaiters() throws {
        let h = PoolHarness(backends: [("db1", 1)])
        _ = h.lease()
        let (anyReq, a1) = h.acquire(backends: .any)
        let (listed, a2) = h.acquire(backends: ["db1", "db2"])
        XCTAssertTrue(a1.isEmpty && a2.isEmpty)
        XCTAssertThrowsError(try h.pool.addBackend("db1", BackendConfiguration(maxConnections: 1), now: h.now)) {
            XCTAssertEqual($0 as? PoolError, .backendExists("db1"))
        }
        let added = try h.pool.addBackend("db2", BackendConfiguration(maxConnections: 5), now: h.now)
        h.check()
        XCTAssertEqual(added.connects.count, 2)
        XCTAssertTrue(added.connects.allSatisfy { $0.backend == "db2" })
        var served: Set<RequestID> = []
        for connect in added.connects { served.formUnion(h.established(connect.id).handOvers.map(\.request)) }
        XCTAssertEqual(served, [anyReq, listed])
    }

    func testRaisingLimitsServesWaiters() throws {
        let h = PoolHarness(PoolConfiguration(maxConnections: 1))
        _ = h.lease()
        let (r, _) = h.acquire()
        let actions = h.pool.updateConfiguration(PoolConfiguration(maxConnections: 2), now: h.now)
        let c = try XCTUnwrap(actions.connects.first).id
        XCTAssertEqual(h.established(c).handOvers.map(\.request), [r])
        let u = try h.pool.updateBackend("db1", BackendConfiguration(maxConnections: 10), now: h.now)
        XCTAssertTrue(u.isEmpty)
    }

    func testSnapshotCountsAndCloseReasons() throws {
        let h = PoolHarness(backends: [("db1", 5)])
        let a = h.lease(user: "u1")
        let b = h.lease(user: "u2")
        h.release(a.connection, .close)
        h.closed(a.connection)
        h.release(b.connection)
        let snap = h.snapshot
        XCTAssertEqual(snap.connections.idle, 1)
        XCTAssertEqual(snap.backends.first?.counters.closes, [.discarded: 1])
        XCTAssertEqual(snap.backends.first?.counters.connectsStarted, 2)
        XCTAssertEqual(snap.pools.map(\.key), [PoolKey(backend: "db1", user: "u1"), PoolKey(backend: "db1", user: "u2")])
        XCTAssertEqual(snap.users.map(\.user), ["u1", "u2"])
        XCTAssertEqual(snap.users[0].requests.servedAfterWait, 1)
    }
}

final class ClientAdmissionTests: XCTestCase {
    func testLimitsAndRefusalReasons() {
        var admission = ClientAdmission(limits: .init(maxClients: 3, maxClientsPerUser: 2, userLimits: ["vip": 3]))
        XCTAssertNil(admission.admit(user: "a"))
        XCTAssertNil(admission.admit(user: "a"))
        XCTAssertEqual(admission.admit(user: "a"), .tooManyClientsForUser("a", current: 2, max: 2))
        XCTAssertNil(admission.admit(user: "vip"))
        XCTAssertEqual(admission.admit(user: "vip"), .tooManyClients(current: 3, max: 3))
        XCTAssertTrue(admission.leave(user: "a"))
        XCTAssertNil(admission.admit(user: "vip"))
        XCTAssertFalse(admission.leave(user: "nobody"))
        XCTAssertEqual(admission.total, 3)
        XCTAssertEqual(admission.clients(of: "vip"), 2)
        XCTAssertEqual(admission.refused, 2)
        XCTAssertEqual(admission.admitted, 4)
    }
}
