import XCTest
import Pooling

/// The transaction-pooling hot path: acquire an idle connection and release it, no waiters.
final class FastPathTests: XCTestCase {
    func testAcquireReleaseOfIdleConnectionIsCheap() throws {
        let pool = ConnectionPool(configuration: PoolConfiguration(maxConnections: 100, maxInUsePerDatabase: 50))
        var now = PoolInstant(nanoseconds: 1)
        _ = try pool.addBackend("db1", BackendConfiguration(maxConnections: 10), now: now)
        // warm up 10 idle connections across 100 other idle pools' worth of state
        for user in 0..<100 { try pool.warmPool(backend: "db1", user: "user\(user)") }
        let first = try pool.acquire(0, user: "app", database: "shop", backends: ["db1"], now: now)
        guard case .connect(let id, _, _)? = first.first else { return XCTFail("\(first)") }
        _ = try pool.connectionEstablished(id, now: now)
        _ = try pool.release(id, now: now)
        let iterations = 200_000
        let start = ContinuousClock.now
        for i in 1...iterations {
            now.nanoseconds += 1000
            let actions = try pool.acquire(RequestID(UInt64(i)), user: "app", database: "shop", backends: ["db1"], now: now)
            guard case .handOver(_, let lease)? = actions.first else { return XCTFail("\(actions)") }
            _ = try pool.release(lease.connection, now: now)
        }
        let elapsed = ContinuousClock.now - start
        let perPair = elapsed / iterations
        print("acquire+release of an idle connection: \(perPair) per pair")
        XCTAssertEqual(pool.snapshot().pools.first { $0.key.user == "app" }?.counters.handOvers, iterations + 1)
    }
}
