import Pooling
import XCTest

/// Affinity: a request prefers an idle connection established with its own affinity (the
/// funnel's event loop), so client and backend connection share a thread; it is only a preference.
final class AffinityTests: XCTestCase {
    private var now = PoolInstant(nanoseconds: 1)

    /// Opens a connection for a request with this affinity and establishes it there (the request gets it).
    private func idleConnection(_ pool: ConnectionPool, _ request: RequestID, affinity: Int, database: String? = nil) throws -> ConnectionID {
        let actions = try pool.acquire(request, user: "app", database: database, backends: ["db"], now: now, affinity: affinity)
        guard case .connect(let id, _, _)? = actions.first else { XCTFail("\(actions)"); return ConnectionID(0) }
        XCTAssertEqual(pool.wantedAffinity(id), affinity)
        let established = try pool.connectionEstablished(id, now: now, schema: database, affinity: affinity)
        XCTAssertEqual(established.count, 1, "\(established)")
        return id
    }

    private func leased(_ actions: PoolActions) -> ConnectionID? {
        if case .handOver(_, let lease)? = actions.first { return lease.connection }
        return nil
    }

    func testIdleConnectionOfTheSameAffinityGoesFirst() throws {
        let pool = ConnectionPool()
        _ = try pool.addBackend("db", BackendConfiguration(maxConnections: 4), now: now)
        let onZero = try idleConnection(pool, 1, affinity: 0)
        let onOne = try idleConnection(pool, 2, affinity: 1)
        _ = try pool.release(onZero, now: now)
        _ = try pool.release(onOne, now: now)   // the newest idle one is on loop 1
        let forZero = try pool.acquire(3, user: "app", database: nil, backends: ["db"], now: now, affinity: 0)
        XCTAssertEqual(leased(forZero), onZero)
        let forOne = try pool.acquire(4, user: "app", database: nil, backends: ["db"], now: now, affinity: 1)
        XCTAssertEqual(leased(forOne), onOne)
        XCTAssertTrue(pool.checkInvariants().isEmpty)
    }

    func testAffinityIsOnlyAPreference() throws {
        let pool = ConnectionPool()
        _ = try pool.addBackend("db", BackendConfiguration(maxConnections: 1), now: now)
        let onOne = try idleConnection(pool, 1, affinity: 1)
        _ = try pool.release(onOne, now: now)
        // No idle connection of affinity 0 and no room to open one: the other loop's serves.
        let actions = try pool.acquire(2, user: "app", database: nil, backends: ["db"], now: now, affinity: 0)
        XCTAssertEqual(leased(actions), onOne)
    }

    func testTheWantedSchemaOutranksAffinity() throws {
        let pool = ConnectionPool()
        _ = try pool.addBackend("db", BackendConfiguration(maxConnections: 4), now: now)
        let shopOnOne = try idleConnection(pool, 1, affinity: 1, database: "shop")
        let otherOnZero = try idleConnection(pool, 2, affinity: 0, database: "other")
        _ = try pool.release(shopOnOne, now: now)
        _ = try pool.release(otherOnZero, now: now)
        let actions = try pool.acquire(3, user: "app", database: "shop", backends: ["db"], now: now, affinity: 0)
        XCTAssertEqual(leased(actions), shopOnOne)
    }

    /// One connection (affinity 1), leased; then requests queue with these affinities, one
    /// every `spacing`, and the connection comes back (`later` after the last one arrived): which
    /// request gets it.
    private func servedAfterRelease(queued affinities: [Int?], spacing: PoolDuration = .zero,
                                    later: PoolDuration = .zero) throws -> RequestID? {
        let pool = ConnectionPool()
        _ = try pool.addBackend("db", BackendConfiguration(maxConnections: 1), now: now)
        let connection = try idleConnection(pool, 100, affinity: 1)   // opened for request 100, which holds it
        var arrival = now
        for (i, affinity) in affinities.enumerated() {
            arrival = now + .nanoseconds(UInt64(i) * spacing.nanoseconds)
            let actions = try pool.acquire(RequestID(UInt64(i + 1)), user: "app", database: nil, backends: ["db"], now: arrival,
                                           affinity: affinity)
            XCTAssertTrue(actions.isEmpty, "\(actions)")
        }
        let released = try pool.release(connection, now: arrival + later)
        XCTAssertTrue(pool.checkInvariants().isEmpty)
        if case .handOver(let request, _)? = released.first { return request }
        return nil
    }

    func testUnderPressureARequestOnTheConnectionsLoopMayPassOthers() throws {
        XCTAssertEqual(try servedAfterRelease(queued: [0, 0, 1]), RequestID(3))
        // A loop queues its clients' requests in runs (one per batch of reads): a run is passed whole.
        let run = Array(repeating: 0, count: 300)
        XCTAssertEqual(try servedAfterRelease(queued: run + [1, 1]), RequestID(UInt64(run.count + 1)))
        XCTAssertEqual(try servedAfterRelease(queued: [0, 1], spacing: ConnectionPool.affinitySkew), RequestID(2))
        // The oldest one has waited 12 ms: one that came 3 ms after it (a quarter) may still pass it.
        XCTAssertEqual(try servedAfterRelease(queued: [0, 1], spacing: .milliseconds(3), later: .milliseconds(9)), RequestID(2))
    }

    func testNoRequestIsPassedByOneThatArrivedMuchLater() throws {
        let skew = ConnectionPool.affinitySkew.nanoseconds
        XCTAssertEqual(try servedAfterRelease(queued: [0, 1], spacing: .nanoseconds(skew + 1)), RequestID(1))
        XCTAssertEqual(try servedAfterRelease(queued: [0, 0, 0, 1], spacing: .nanoseconds(skew / 2)), RequestID(1))
        XCTAssertEqual(try servedAfterRelease(queued: [0, 1], spacing: .milliseconds(3), later: .milliseconds(8)), RequestID(1))
        XCTAssertEqual(try servedAfterRelease(queued: [1, 0]), RequestID(1))
        XCTAssertEqual(try servedAfterRelease(queued: [nil, 1]), RequestID(1))   // no affinity: plain FIFO
    }

    /// Requests of each loop in turn, connections of loop 1 coming back one after the other:
    /// each goes to the oldest request of loop 1 still waiting, then, with none left, to the oldest.
    func testSuccessiveConnectionsGoToTheirLoopsRequestsInOrder() throws {
        let pool = ConnectionPool()
        _ = try pool.addBackend("db", BackendConfiguration(maxConnections: 2), now: now)
        let first = try idleConnection(pool, 100, affinity: 1)
        let second = try idleConnection(pool, 101, affinity: 1)
        for (i, affinity) in [0, 1, 0, 1].enumerated() {
            XCTAssertTrue(try pool.acquire(RequestID(UInt64(i + 1)), user: "app", database: nil, backends: ["db"], now: now,
                                           affinity: affinity).isEmpty)
        }
        func servedBy(_ connection: ConnectionID) throws -> RequestID? {
            let released = try pool.release(connection, now: now)
            XCTAssertTrue(pool.checkInvariants().isEmpty)
            if case .handOver(let request, _)? = released.first { return request }
            return nil
        }
        XCTAssertEqual(try servedBy(first), RequestID(2))
        XCTAssertEqual(try servedBy(second), RequestID(4))
        XCTAssertEqual(try servedBy(first), RequestID(1))
        XCTAssertEqual(try servedBy(second), RequestID(3))
        XCTAssertNil(try servedBy(first))
    }
}
