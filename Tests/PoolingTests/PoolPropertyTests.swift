import XCTest
@testable import Pooling

/// SplitMix64: a tiny seeded generator so failures replay exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Drives the pool with thousands of random events, playing the proxy's part from the actions
/// only, and checks after every event: the pool's own invariants (counts, links, nothing
/// servable left waiting), every limit, that each connection is in the state the actions imply,
/// that each request ends exactly once, and finally that nobody is left waiting.
final class PoolPropertyTests: XCTestCase {
    enum ModelState: Equatable { case connecting, idle, leased, resetting, closing }

    struct Model {
        var connections: [ConnectionID: ModelState] = [:]
        var waiting: Set<UInt64> = []
        var ended: Set<UInt64> = []
        var backendMax: [BackendID: Int] = [:]
        var live: Set<BackendID> = []      // accepting new connections
        var present: Set<BackendID> = []   // added and not removed
    }

    func testRandomEventSequencesKeepInvariants() throws {
        var total = RequestCounters()
        var closes: [CloseReason: Int] = [:]
        for seed in UInt64(1)...24 {
            let snapshot = try run(seed: seed, events: 2500)
            total.servedImmediately += snapshot.requests.servedImmediately
            total.servedAfterWait += snapshot.requests.servedAfterWait
            total.timeouts += snapshot.requests.timeouts
            total.refusals += snapshot.requests.refusals
            total.connectFailures += snapshot.requests.connectFailures
            total.noBackend += snapshot.requests.noBackend
            total.cancels += snapshot.requests.cancels
            for backend in snapshot.backends { closes.merge(backend.counters.closes, uniquingKeysWith: +) }
        }
        // The random walk must actually reach the interesting paths.
        for (name, value) in [("immediate", total.servedImmediately), ("after wait", total.servedAfterWait),
                              ("timeouts", total.timeouts), ("refusals", total.refusals),
                              ("connect failures", total.connectFailures), ("no backend", total.noBackend),
                              ("cancels", total.cancels), ("rebalance", closes[.rebalance] ?? 0),
                              ("reset failed", closes[.resetFailed] ?? 0), ("unavailable", closes[.backendUnavailable] ?? 0)] {
            XCTAssertGreaterThan(value, 0, name)
        }
    }

    private func run(seed: UInt64, events: Int) throws -> PoolSnapshot {
        var rng = SeededGenerator(seed: seed)
        let users = ["u1", "u2", "u3", "u4"]
        let databases: [String?] = ["d1", "d2", "d3", nil]
        let allBackends: [BackendID] = ["b1", "b2", "b3"]
        let configuration = PoolConfiguration(
            maxConnections: Bool.random(using: &rng) ? Int.random(in: 2...8, using: &rng) : nil,
            maxConnectionsPerUser: Bool.random(using: &rng) ? Int.random(in: 1...4, using: &rng) : nil,
            userConnectionLimits: Bool.random(using: &rng) ? ["u1": 2] : [:],
            maxInUsePerDatabase: Bool.random(using: &rng) ? Int.random(in: 1...3, using: &rng) : nil,
            databaseInUseLimits: Bool.random(using: &rng) ? ["d1": 1] : [:],
            maxWaiting: Bool.random(using: &rng) ? Int.random(in: 5...40, using: &rng) : nil,
            maxWaitingPerUser: Bool.random(using: &rng) ? Int.random(in: 2...15, using: &rng) : nil,
            waitTimeout: .milliseconds(UInt64.random(in: 50...2000, using: &rng)),
            idleTimeout: Bool.random(using: &rng) ? .milliseconds(UInt64.random(in: 100...3000, using: &rng)) : nil,
            maxLifetime: Bool.random(using: &rng) ? .milliseconds(UInt64.random(in: 500...10000, using: &rng)) : nil,
            minIdlePerPool: Int.random(in: 0...2, using: &rng),
            pingAfterIdle: .milliseconds(200),
            rebalanceHold: Bool.random(using: &rng) ? .zero : .milliseconds(UInt64.random(in: 1...300, using: &rng))
        )
        let pool = ConnectionPool(configuration: configuration)
        var now = PoolInstant(nanoseconds: 1_000_000)
        var model = Model()
        var nextRequest: UInt64 = 1
        let context = "seed \(seed)"

        func apply(_ actions: PoolActions, acquired: UInt64? = nil) {
            for action in actions {
                switch action {
                case .handOver(let request, let lease):
                    XCTAssertTrue(model.waiting.remove(request.rawValue) != nil || request.rawValue == acquired, "\(context): \(request) handed over twice or unknown")
                    XCTAssertTrue(model.ended.insert(request.rawValue).inserted, "\(context): \(request) ended twice")
                    XCTAssertTrue([.idle, .connecting].contains(model.connections[lease.connection]), "\(context): handed \(lease.connection) in \(String(describing: model.connections[lease.connection]))")
                    model.connections[lease.connection] = .leased
                case .connect(let id, let backend, _):
                    XCTAssertNil(model.connections[id], "\(context): connect id reused")
                    XCTAssertTrue(model.live.contains(backend), "\(context): connect to unavailable \(backend)")
                    model.connections[id] = .connecting
                case .close(let id, _):
                    XCTAssertTrue([.idle, .leased, .resetting, .connecting].contains(model.connections[id]), "\(context): close from \(String(describing: model.connections[id]))")
                    model.connections[id] = .closing
                case .reset(let id):
                    XCTAssertEqual(model.connections[id], .leased, context)
                    model.connections[id] = .resetting
                case .fail(let request, _):
                    XCTAssertTrue(model.waiting.remove(request.rawValue) != nil || request.rawValue == acquired, "\(context): \(request) failed but not waiting")
                    XCTAssertTrue(model.ended.insert(request.rawValue).inserted, "\(context): \(request) ended twice")
                }
            }
        }

        func ids(_ state: ModelState) -> [ConnectionID] {
            model.connections.filter { $0.value == state }.map(\.key).sorted()
        }

        func verify(_ step: Int) {
            let problems = pool.checkInvariants()
            XCTAssert(problems.isEmpty, "\(context) step \(step): \(problems)")
            let snapshot = pool.snapshot()
            for backend in snapshot.backends {
                XCTAssertLessThanOrEqual(backend.connections.total, model.backendMax[backend.id] ?? 0, "\(context) step \(step): \(backend.id) over max")
            }
            if let max = configuration.maxConnections {
                XCTAssertLessThanOrEqual(snapshot.connections.total, max, "\(context) step \(step): global max")
            }
            for user in snapshot.users {
                if let max = configuration.userLimit(user.user) {
                    XCTAssertLessThanOrEqual(user.connections.total, max, "\(context) step \(step): user \(user.user)")
                }
            }
            for database in snapshot.databases {
                if let max = configuration.databaseLimit(database.database) {
                    XCTAssertLessThanOrEqual(database.inUse, max, "\(context) step \(step): db \(database.database)")
                }
            }
            XCTAssertEqual(pool.waitingCount, model.waiting.count, "\(context) step \(step): waiting count")
            for request in model.waiting { XCTAssertTrue(pool.isWaiting(RequestID(request)), "\(context): \(request) lost") }
            for (id, state) in model.connections {
                let actual = pool.connectionInfo(id)?.state
                let expected: ConnectionState = switch state {
                case .connecting: .connecting
                case .idle: .idle
                case .leased: .leased
                case .resetting: .resetting
                case .closing: .closing
                }
                XCTAssertEqual(actual, expected, "\(context) step \(step): \(id)")
            }
            XCTAssertEqual(snapshot.connections.total, model.connections.count, "\(context) step \(step): connection count")
        }

        for backend in allBackends.prefix(2) {
            let max = Int.random(in: 1...5, using: &rng)
            model.backendMax[backend] = max
            model.live.insert(backend)
            model.present.insert(backend)
            apply(try pool.addBackend(backend, BackendConfiguration(maxConnections: max), now: now))
        }

        for step in 0..<events {
            now = now + .milliseconds(UInt64.random(in: 0...30, using: &rng))
            let roll = Int.random(in: 0..<100, using: &rng)
            switch roll {
            case 0..<30:
                let request = nextRequest
                nextRequest += 1
                let selection: BackendSelection = Int.random(in: 0..<5, using: &rng) == 0
                    ? .any : .ordered(Array(allBackends.shuffled(using: &rng).prefix(Int.random(in: 1...3, using: &rng))))
                let timeout: PoolDuration? = Bool.random(using: &rng) ? nil : .milliseconds(UInt64.random(in: 10...500, using: &rng))
                let actions = try pool.acquire(RequestID(request), user: users.randomElement(using: &rng)!,
                                               database: databases.randomElement(using: &rng)!, backends: selection,
                                               now: now, timeout: timeout)
                model.waiting.insert(request)
                apply(actions, acquired: request)
                if model.ended.contains(request) { model.waiting.remove(request) }
            case 30..<36:
                if let request = model.waiting.sorted().randomElement(using: &rng) {
                    model.waiting.remove(request)
                    model.ended.insert(request)
                    apply(pool.cancel(RequestID(request), now: now))
                }
            case 36..<52:
                if let id = ids(.leased).randomElement(using: &rng) {
                    let disposition = [ReleaseDisposition.clean, .clean, .needsReset, .close].randomElement(using: &rng)!
                    model.connections[id] = disposition == .clean ? .idle : .leased
                    apply(try pool.release(id, disposition, now: now))
                    if disposition == .close { XCTAssertEqual(model.connections[id], .closing, context) }
                }
            case 52..<58:
                if let id = ids(.resetting).randomElement(using: &rng) {
                    let ok = Int.random(in: 0..<5, using: &rng) > 0
                    model.connections[id] = .idle
                    apply(try pool.resetCompleted(id, ok: ok, now: now))
                }
            case 58..<70:
                if let id = ids(.connecting).randomElement(using: &rng) {
                    if Int.random(in: 0..<5, using: &rng) > 0 {
                        model.connections[id] = .idle
                        apply(try pool.connectionEstablished(id, now: now, schema: databases.randomElement(using: &rng)!))
                    } else {
                        model.connections[id] = nil
                        apply(try pool.connectionFailed(id, now: now, error: "refused"))
                    }
                }
            case 70..<80:
                if let id = ids(.closing).randomElement(using: &rng) {
                    model.connections[id] = nil
                    apply(try pool.connectionClosed(id, now: now))
                }
            case 80..<82:
                if let id = model.connections.keys.sorted().randomElement(using: &rng) {
                    model.connections[id] = nil
                    apply(try pool.connectionLost(id, now: now))
                }
            case 82..<92:
                now = now + .milliseconds(UInt64.random(in: 0...300, using: &rng))
                apply(pool.tick(now: now))
            case 92..<95:
                // drain or un-drain, or raise the limit
                let backend = allBackends.randomElement(using: &rng)!
                guard model.present.contains(backend) else { break }
                let max = model.backendMax[backend]! + (Bool.random(using: &rng) ? 1 : 0)
                model.backendMax[backend] = max
                let accepting = Bool.random(using: &rng)
                if accepting { model.live.insert(backend) } else { model.live.remove(backend) }
                apply(try pool.updateBackend(backend, BackendConfiguration(maxConnections: max, acceptingNew: accepting), now: now))
            case 95..<97:
                let backend = allBackends.randomElement(using: &rng)!
                guard model.present.contains(backend) else { break }
                model.live.remove(backend)
                model.present.remove(backend)
                apply(try pool.removeBackend(backend, now: now))
            default:
                let backend = allBackends.randomElement(using: &rng)!
                guard !model.present.contains(backend) else { break }
                // a lingering removed backend comes back with at least its old limit
                let max = max(model.backendMax[backend] ?? 0, Int.random(in: 1...5, using: &rng))
                model.backendMax[backend] = max
                model.live.insert(backend)
                model.present.insert(backend)
                apply(try pool.addBackend(backend, BackendConfiguration(maxConnections: max), now: now))
            }
            // a connect to a backend that became unavailable is legal only while live; track drains
            for backend in pool.snapshot().backends where !backend.configuration.acceptingNew || backend.isRemoving {
                model.live.remove(backend.id)
            }
            for backend in pool.snapshot().backends where backend.configuration.acceptingNew && !backend.isRemoving {
                model.live.insert(backend.id)
            }
            verify(step)
            if !pool.checkInvariants().isEmpty { return pool.snapshot() } // one report per seed is enough
        }

        // Wind down: finish every pending operation, give everything back, let deadlines pass.
        var rounds = 0
        while (!model.waiting.isEmpty || model.connections.values.contains(where: { $0 != .idle })) && rounds < 100 {
            rounds += 1
            for id in ids(.connecting) { model.connections[id] = .idle; apply(try pool.connectionEstablished(id, now: now)) }
            for id in ids(.resetting) { model.connections[id] = .idle; apply(try pool.resetCompleted(id, ok: true, now: now)) }
            for id in ids(.leased) { model.connections[id] = .idle; apply(try pool.release(id, now: now)) }
            for id in ids(.closing) { model.connections[id] = nil; apply(try pool.connectionClosed(id, now: now)) }
            now = now + .seconds(3)
            apply(pool.tick(now: now))
            verify(events + rounds)
        }
        XCTAssertTrue(model.waiting.isEmpty, "\(context): requests left waiting \(model.waiting)")
        XCTAssertEqual(pool.waitingCount, 0, context)
        XCTAssertEqual(Int(nextRequest - 1), model.ended.count, "\(context): every request ended exactly once")
        return pool.snapshot()
    }
}
