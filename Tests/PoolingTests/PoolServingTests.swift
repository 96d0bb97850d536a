import XCTest
@testable import Pooling

final class PoolServingTests: XCTestCase {
    func testFirstAcquireConnectsThenReuseIsImmediate() throws {
        let h = PoolHarness()
        let (r1, a1) = h.acquire(database: "shop")
        XCTAssertEqual(a1.count, 1)
        let connect = try XCTUnwrap(a1.connects.first)
        XCTAssertEqual(connect.backend, "db1")
        XCTAssertEqual(connect.user, "app")
        XCTAssertTrue(h.pool.isWaiting(r1))
        h.advance(.milliseconds(3))
        let e = h.established(connect.id, schema: nil)
        let lease = try XCTUnwrap(e.handOvers.first)
        XCTAssertEqual(lease.request, r1)
        XCTAssertEqual(lease.lease.waited, .milliseconds(3))
        XCTAssertTrue(lease.lease.needsSchemaChange)
        XCTAssertEqual(lease.lease.useCount, 1)
        XCTAssertTrue(h.release(connect.id).isEmpty)
        // same database: no schema change, no wait
        let (_, a2) = h.acquire(database: "shop")
        let l2 = try XCTUnwrap(a2.handOvers.first).lease
        XCTAssertEqual(l2.connection, connect.id)
        XCTAssertFalse(l2.needsSchemaChange)
        XCTAssertEqual(l2.waited, .zero)
        XCTAssertEqual(l2.useCount, 2)
        h.release(connect.id)
        // other database: schema change requested
        let (_, a3) = h.acquire(database: "crm")
        XCTAssertTrue(try XCTUnwrap(a3.handOvers.first).lease.needsSchemaChange)
        let info = try XCTUnwrap(h.pool.connectionInfo(connect.id))
        XCTAssertEqual(info.schema, "crm")
        XCTAssertEqual(info.useCount, 3)
        let stats = try XCTUnwrap(h.snapshot.pools.first)
        XCTAssertEqual(stats.counters.handOvers, 3)
        XCTAssertEqual(stats.counters.connectsSucceeded, 1)
        XCTAssertEqual(h.snapshot.requests.servedImmediately, 2)
        XCTAssertEqual(h.snapshot.requests.servedAfterWait, 1)
    }

    func testIdleWithMatchingSchemaIsPreferred() throws {
        let h = PoolHarness()
        let a = h.lease(database: "a")
        let b = h.lease(database: "b")
        h.release(a.connection)
        h.release(b.connection)
        let (_, actions) = h.acquire(database: "a")
        let lease = try XCTUnwrap(actions.handOvers.first).lease
        XCTAssertEqual(lease.connection, a.connection)
        XCTAssertFalse(lease.needsSchemaChange)
    }

    func testPingRequestedAfterLongIdle() throws {
        let h = PoolHarness(PoolConfiguration(pingAfterIdle: .seconds(30)))
        let l = h.lease()
        h.release(l.connection)
        h.advance(.seconds(29))
        var lease = try XCTUnwrap(h.acquire().1.handOvers.first).lease
        XCTAssertFalse(lease.needsPing)
        h.release(l.connection)
        h.advance(.seconds(30))
        lease = try XCTUnwrap(h.acquire().1.handOvers.first).lease
        XCTAssertTrue(lease.needsPing)
    }

    func testCandidatesInOrderIdleFirstThenOpen() throws {
        let h = PoolHarness(backends: [("a", 1), ("b", 5)])
        // idle on b beats opening on a
        let onB = h.lease(backends: ["b"])
        h.release(onB.connection)
        let (_, x) = h.acquire(backends: ["a", "b"])
        XCTAssertEqual(x.handOvers.first?.lease.backend, "b")
        // nothing idle: open on the first candidate that may open
        let (_, y) = h.acquire(backends: ["a", "b"])
        XCTAssertEqual(y.connects.first?.backend, "a")
        let (_, z) = h.acquire(backends: ["a", "b"])
        XCTAssertEqual(z.connects.first?.backend, "b") // a is full
        // unknown candidates are skipped; .any uses every backend
        let (_, w) = h.acquire(backends: ["nope", "b"])
        XCTAssertEqual(w.connects.first?.backend, "b")
        let (_, v) = h.acquire(backends: .any)
        XCTAssertEqual(v.connects.first?.backend, "b")
        let (_, none) = h.acquire(backends: ["nope"])
        XCTAssertEqual(none.failures.first?.failure, .noBackendAvailable)
    }

    func testReleasedConnectionGoesToOldestWaiterOfSameUserFIFO() throws {
        let h = PoolHarness(backends: [("db1", 1)])
        let first = h.lease()
        var waiting: [RequestID] = []
        for _ in 0..<5 {
            let (id, actions) = h.acquire()
            XCTAssertTrue(actions.isEmpty)
            waiting.append(id)
        }
        var served: [RequestID] = []
        var conn = first.connection
        for _ in 0..<5 {
            h.advance(.milliseconds(1))
            let actions = h.release(conn)
            let handed = try XCTUnwrap(actions.handOvers.first)
            served.append(handed.request)
            conn = handed.lease.connection
        }
        XCTAssertEqual(served, waiting)
        XCTAssertEqual(h.snapshot.users.first?.requests.maxWaitingSeen, 5)
    }

    func testCrossUserFairnessAFloodCannotStarveASingleWaiter() throws {
        let h = PoolHarness(backends: [("db1", 2)])
        let l1 = h.lease(user: "flood")
        let l2 = h.lease(user: "flood")
        for _ in 0..<1000 { XCTAssertTrue(h.acquire(user: "flood").1.isEmpty) }
        // The flood has held its connections past the rebalance hold.
        h.advance(PoolConfiguration().rebalanceHold)
        let (lonely, none) = h.acquire(user: "lonely")
        XCTAssertTrue(none.isEmpty)
        // Releasing a flood connection: the backend is full and "lonely" waits, so the flood's
        // next waiter gets it only if it is not lonely's turn. Run releases until lonely is served.
        var leased = [l1.connection, l2.connection]
        var releases = 0
        var lonelyServed = false
        while !lonelyServed && releases < 10 {
            let conn = leased.removeFirst()
            releases += 1
            var actions = h.release(conn)
            for close in actions.closes { actions = h.closed(close.id) }
            for connect in actions.connects { actions = h.established(connect.id) }
            for handed in actions.handOvers {
                if handed.request == lonely { lonelyServed = true } else { leased.append(handed.lease.connection) }
            }
        }
        XCTAssertTrue(lonelyServed)
        XCTAssertLessThanOrEqual(releases, 2)
        XCTAssertLessThanOrEqual(h.backend("db1")!.connections.total, 2)
        XCTAssertEqual(h.backend("db1")?.counters.closes[.rebalance], 1)
    }

    /// Runs the close/connect round trips a release causes; returns the hand-overs.
    private func settle(_ h: PoolHarness, _ first: PoolActions) -> [(request: RequestID, lease: Lease)] {
        var pending = [first]
        var handed: [(request: RequestID, lease: Lease)] = []
        while !pending.isEmpty {
            let actions = pending.removeFirst()
            handed += actions.handOvers
            for close in actions.closes { pending.append(h.closed(close.id)) }
            for connect in actions.connects { pending.append(h.established(connect.id)) }
        }
        return handed
    }

    func testSlotsRotateAcrossUsersOldestFirstWhenSharesAreEqual() throws {
        // Global limit 1: a connection nobody of its user waits for is closed for the next user;
        // between users holding one connection each, the older waiting request goes first.
        let h = PoolHarness(PoolConfiguration(maxConnections: 1), backends: [("db1", 10)])
        var holder = h.lease(user: "x")
        var byRequest: [RequestID: String] = [:]
        for user in ["a", "b", "c", "a", "b", "c"] {
            h.advance(.milliseconds(1))
            let (id, actions) = h.acquire(user: user)
            XCTAssertTrue(actions.isEmpty)
            byRequest[id] = user
        }
        var order: [String] = []
        for _ in 0..<6 {
            // Each holder keeps the slot for the rebalance hold (RebalanceHoldTests).
            h.advance(PoolConfiguration().rebalanceHold)
            let handed = try XCTUnwrap(settle(h, h.release(holder.connection)).first)
            order.append(byRequest[handed.request]!)
            holder = handed.lease
        }
        XCTAssertEqual(order, ["a", "b", "c", "a", "b", "c"])
    }

    func testEqualSharesDoNotChurn() throws {
        let h = PoolHarness(backends: [("db1", 4)])
        var leases = [h.lease(user: "a"), h.lease(user: "a"), h.lease(user: "b"), h.lease(user: "b")]
        for user in ["a", "b"] { for _ in 0..<50 { _ = h.acquire(user: user) } }
        for _ in 0..<40 {
            let lease = leases.removeFirst()
            let actions = h.release(lease.connection)
            XCTAssertTrue(actions.closes.isEmpty, "\(actions)")
            let handed = try XCTUnwrap(actions.handOvers.first)
            XCTAssertEqual(h.pool.connectionInfo(handed.lease.connection)?.key.user, h.pool.connectionInfo(lease.connection)?.key.user)
            leases.append(handed.lease)
        }
        XCTAssertNil(h.backend("db1")?.counters.closes[.rebalance])
    }

    func testMultipleWaitersEachGetTheirOwnConnect() throws {
        let h = PoolHarness(backends: [("db1", 3)])
        var connects: [ConnectionID] = []
        var requests: [RequestID] = []
        for _ in 0..<5 {
            let (id, actions) = h.acquire()
            requests.append(id)
            connects += actions.connects.map(\.id)
        }
        XCTAssertEqual(connects.count, 3)
        XCTAssertEqual(h.snapshot.connections.connecting, 3)
        // connects finish out of order: each goes to the request it was opened for
        let third = h.established(connects[2]).handOvers
        XCTAssertEqual(third.map(\.request), [requests[2]])
        let first = h.established(connects[0]).handOvers
        XCTAssertEqual(first.map(\.request), [requests[0]])
    }

    func testCancelledWaiterLeavesAndItsConnectIsAdopted() throws {
        let h = PoolHarness(backends: [("db1", 1)])
        let (r1, a1) = h.acquire()
        let conn = try XCTUnwrap(a1.connects.first).id
        let (r2, a2) = h.acquire()
        XCTAssertTrue(a2.isEmpty)
        let cancel = h.pool.cancel(r1, now: h.now)
        h.check()
        XCTAssertTrue(cancel.isEmpty)
        XCTAssertFalse(h.pool.isWaiting(r1))
        XCTAssertTrue(h.pool.cancel(r1, now: h.now).isEmpty) // idempotent
        let e = h.established(conn)
        XCTAssertEqual(e.handOvers.map(\.request), [r2])
        XCTAssertEqual(h.snapshot.requests.cancels, 1)
    }

    func testPerUserConnectionLimit() throws {
        let h = PoolHarness(PoolConfiguration(maxConnectionsPerUser: 2, userConnectionLimits: ["big": 3]))
        _ = h.lease(user: "u")
        _ = h.lease(user: "u")
        let (_, blocked) = h.acquire(user: "u")
        XCTAssertTrue(blocked.isEmpty)
        for _ in 0..<3 { _ = h.lease(user: "big") }
        XCTAssertTrue(h.acquire(user: "big").1.isEmpty)
        XCTAssertEqual(h.snapshot.users.first { $0.user == "u" }?.connections.total, 2)
        XCTAssertEqual(h.snapshot.users.first { $0.user == "big" }?.connections.total, 3)
    }

    func testGlobalAndBackendLimits() throws {
        let h = PoolHarness(PoolConfiguration(maxConnections: 3), backends: [("a", 2), ("b", 10)])
        _ = h.lease(backends: ["a"])
        _ = h.lease(backends: ["a"])
        XCTAssertTrue(h.acquire(backends: ["a"]).1.isEmpty) // backend a full
        _ = h.lease(backends: ["b"])
        let (r, actions) = h.acquire(backends: ["b"])
        XCTAssertTrue(actions.isEmpty) // global full
        h.advance(.seconds(10))
        let timeouts = h.tick().failures
        let mine = try XCTUnwrap(timeouts.first { $0.request == r })
        guard case .timeout(let waited, let pressure) = mine.failure else { return XCTFail("\(mine)") }
        XCTAssertEqual(waited, .seconds(10))
        XCTAssertEqual(pressure.limit, .global(max: 3))
        XCTAssertEqual(pressure.open, 3)
        XCTAssertEqual(pressure.inUse, 3)
        XCTAssertEqual(pressure.waiting, 2)
    }

    func testDatabaseInUseLimit() throws {
        let h = PoolHarness(PoolConfiguration(maxInUsePerDatabase: 1, databaseInUseLimits: ["big": 2]))
        let shop = h.lease(database: "shop")
        let (waiter, blocked) = h.acquire(database: "shop")
        XCTAssertTrue(blocked.isEmpty, "db limit: no connect is opened either")
        _ = h.lease(database: "crm") // another database is fine
        _ = h.lease(database: "big")
        _ = h.lease(database: "big")
        XCTAssertTrue(h.acquire(database: "big").1.isEmpty)
        XCTAssertEqual(h.snapshot.databases.first { $0.database == "shop" }, DatabaseStatistics(database: "shop", inUse: 1, waiting: 1))
        let released = h.release(shop.connection)
        XCTAssertEqual(released.handOvers.map(\.request), [waiter])
    }

    func testDatabaseLimitSetAtRunTimeCountsTheLeasesAlreadyOut() throws {
        let h = PoolHarness()   // no database limit: leases by database are not tracked, only counted on demand
        let first = h.lease(database: "shop")
        _ = h.lease(database: "shop")
        _ = h.lease(database: "crm")
        XCTAssertEqual(h.snapshot.databases, [DatabaseStatistics(database: "crm", inUse: 1, waiting: 0),
                                              DatabaseStatistics(database: "shop", inUse: 2, waiting: 0)])
        _ = h.pool.updateConfiguration(PoolConfiguration(maxInUsePerDatabase: 2), now: h.now)
        h.check()
        let (waiter, blocked) = h.acquire(database: "shop")
        XCTAssertTrue(blocked.isEmpty, "shop already has its 2 connections in use")
        XCTAssertFalse(h.acquire(database: "crm").1.isEmpty, "crm has room")
        XCTAssertEqual(h.release(first.connection).handOvers.map(\.request), [waiter])
        _ = h.pool.updateConfiguration(PoolConfiguration(), now: h.now)
        h.check()
        XCTAssertEqual(h.snapshot.databases.first { $0.database == "shop" }?.inUse, 2)
    }

    func testWaitingByDatabaseIsCountedOnDemandUntilADatabaseLimitExists() throws {
        let h = PoolHarness(backends: [("db1", 2)])
        let shop = h.lease(database: "shop")
        _ = h.lease(database: "crm")
        let (waiter, _) = h.acquire(database: "shop")
        _ = h.acquire(database: "shop")
        _ = h.acquire(database: "crm")
        XCTAssertEqual(h.snapshot.databases.map(\.waiting), [1, 2], "crm, shop: recounted from the backlog")
        _ = h.pool.updateConfiguration(PoolConfiguration(maxInUsePerDatabase: 5), now: h.now)
        h.check()   // the tracked counts now match the backlog
        XCTAssertEqual(h.release(shop.connection).handOvers.map(\.request), [waiter])
        XCTAssertEqual(h.snapshot.databases.map(\.waiting), [1, 1])
        h.check()
        _ = h.pool.updateConfiguration(PoolConfiguration(), now: h.now)
        h.check()
        XCTAssertEqual(h.snapshot.databases.map(\.waiting), [1, 1])
    }

    func testLoweredBackendLimitClosesSurplus() throws {
        let h = PoolHarness(backends: [("db1", 4)])
        let leases = (0..<4).map { _ in h.lease() }
        h.release(leases[0].connection)
        h.release(leases[1].connection)
        let update = try h.pool.updateBackend("db1", BackendConfiguration(maxConnections: 1), now: h.now)
        XCTAssertEqual(update.closes.map(\.reason), [.overLimit, .overLimit])
        XCTAssertEqual(h.release(leases[2].connection).closes.map(\.reason), [.overLimit])
        XCTAssertTrue(h.release(leases[3].connection).closes.isEmpty, "one connection is within the new limit")
        XCTAssertEqual(h.backend("db1")?.connections.idle, 1)
        h.check()
    }
}
