@testable import Pooling
import XCTest

/// `PoolConfiguration.rebalanceHold`: a slot moves between users at most about once per hold,
/// not once per request (each move is a close and a login on the server).
final class RebalanceHoldTests: XCTestCase {
    private struct Outcome {
        var rebalances = 0
        var calmAsked = 0
        var calmServed = 0
        var calmLongestWait = PoolDuration.zero
        var floodServed = 0
    }

    /// One backend of 4 connections for `steps` ms: the flood keeps a backlog and each of its
    /// queries takes 4 ms; the calm user asks every 2 ms and each of its queries takes 1 ms.
    private func floodAndTrickle(hold: PoolDuration, steps: Int) -> Outcome {
        let h = PoolHarness(PoolConfiguration(rebalanceHold: hold), backends: [("db1", 4)])
        var flood = (0..<4).map { _ in h.lease(user: "flood").connection }
        for _ in 0..<50 { _ = h.acquire(user: "flood") }
        h.advance(.seconds(1))
        var calm: [ConnectionID] = []
        var calmAsked: [RequestID: PoolInstant] = [:]
        var outcome = Outcome()
        func run(_ first: PoolActions) {
            var pending = [first]
            while !pending.isEmpty {
                let actions = pending.removeFirst()
                for handed in actions.handOvers {
                    if let asked = calmAsked.removeValue(forKey: handed.request) {
                        outcome.calmServed += 1
                        outcome.calmLongestWait = max(outcome.calmLongestWait, h.now.duration(since: asked))
                        calm.append(handed.lease.connection)
                    } else {
                        outcome.floodServed += 1
                        flood.append(handed.lease.connection)
                        pending.append(h.acquire(user: "flood").1)  // the flood's backlog stays full
                    }
                }
                for close in actions.closes { pending.append(h.closed(close.id)) }
                for connect in actions.connects { pending.append(h.established(connect.id)) }
            }
        }
        for step in 0..<steps {
            h.advance(.milliseconds(1))
            let done = calm
            calm = []
            for id in done { run(h.release(id)) }
            if step % 2 == 0 {
                let id = h.newRequest()
                calmAsked[id] = h.now
                outcome.calmAsked += 1
                run(h.acquire(id, user: "calm").1)
            }
            if !flood.isEmpty { run(h.release(flood.removeFirst())) }
            if step % 100 == 0 { run(h.tick()) }
        }
        h.check()
        outcome.rebalances = h.backend("db1")?.counters.closes[.rebalance] ?? 0
        return outcome
    }

    func testAnActiveUserKeepsItsSlotAgainstAFlood() {
        let held = floodAndTrickle(hold: .milliseconds(100), steps: 400)
        // One move: the calm user's first request takes a slot from the flood, and keeps it.
        XCTAssertEqual(held.rebalances, 1)
        XCTAssertEqual(held.calmServed, held.calmAsked)
        XCTAssertLessThanOrEqual(held.calmLongestWait, .milliseconds(1))
        XCTAssertGreaterThan(held.floodServed, 200)

        let unheld = floodAndTrickle(hold: .zero, steps: 400)
        // Without a hold the slot goes back and forth on nearly every calm request.
        XCTAssertGreaterThanOrEqual(unheld.rebalances, unheld.calmAsked)
        XCTAssertEqual(unheld.calmServed, unheld.calmAsked)
    }

    func testAnIdleSlotGoesBackAfterTheHold() throws {
        let h = PoolHarness(backends: [("db1", 2)])
        var flood = [h.lease(user: "flood").connection, h.lease(user: "flood").connection]
        for _ in 0..<10 { _ = h.acquire(user: "flood") }
        h.advance(.seconds(1))
        let (calmRequest, none) = h.acquire(user: "calm")
        XCTAssertTrue(none.isEmpty)
        // On its turn (users are served in turn), the calm user has a flood connection coming
        // back closed for it: the flood holds more than its share.
        var released = h.release(flood.removeFirst())
        if let handed = released.handOvers.first {
            flood.append(handed.lease.connection)
            released = h.release(flood.removeFirst())
        }
        XCTAssertEqual(released.closes.map(\.reason), [.rebalance])
        guard !released.closes.isEmpty else { return }
        let connect = try XCTUnwrap(h.closed(released.closes[0].id).connects.first)
        let calmLease = try XCTUnwrap(h.established(connect.id).handOvers.first { $0.request == calmRequest }).lease
        h.advance(.milliseconds(1))
        XCTAssertTrue(h.release(calmLease.connection).closes.isEmpty)

        // Recently used and not over its share: the flood cannot take it back yet.
        h.advance(.milliseconds(60))
        let early = h.release(flood.removeFirst())
        XCTAssertTrue(early.closes.isEmpty)
        flood.append(try XCTUnwrap(early.handOvers.first).lease.connection)
        XCTAssertTrue(h.tick().closes.isEmpty)
        XCTAssertEqual(h.pool.counts(backend: "db1", user: "calm").idle, 1)

        // Idle for the hold: the next tick closes it for the flood's backlog.
        h.advance(.milliseconds(60))
        let late = h.tick()
        XCTAssertEqual(late.closes.map(\.reason), [.rebalance])
        XCTAssertEqual(h.closed(late.closes[0].id).connects.map(\.user), ["flood"])
        h.check()
    }

    /// Two flooding users on one slot: it moves to the other user once it has been held for the
    /// hold, so both are served in slices of about the hold.
    private func twoFloodsOnOneSlot(hold: PoolDuration, milliseconds: Int) -> (moves: Int, served: [String: Int]) {
        let h = PoolHarness(PoolConfiguration(maxConnections: 1, rebalanceHold: hold))
        var holder = h.lease(user: "a").connection
        var byRequest: [RequestID: String] = [:]
        for user in ["a", "b"] { for _ in 0..<5 { byRequest[h.acquire(user: user).0] = user } }
        var served: [String: Int] = [:]
        var last = "a"
        var moves = 0
        for _ in 0..<milliseconds {
            h.advance(.milliseconds(1))
            var pending = [h.release(holder)]
            while !pending.isEmpty {
                let actions = pending.removeFirst()
                for handed in actions.handOvers {
                    let user = byRequest.removeValue(forKey: handed.request)!
                    served[user, default: 0] += 1
                    if user != last { moves += 1 }
                    last = user
                    holder = handed.lease.connection
                    byRequest[h.acquire(user: user).0] = user
                }
                for close in actions.closes { pending.append(h.closed(close.id)) }
                for connect in actions.connects { pending.append(h.established(connect.id)) }
            }
        }
        h.check()
        return (moves, served)
    }

    func testEqualSharesTakeTurnsInSlicesOfTheHold() {
        let held = twoFloodsOnOneSlot(hold: .milliseconds(100), milliseconds: 1000)
        XCTAssertTrue((8...11).contains(held.moves), "\(held)")
        XCTAssertGreaterThan(held.served["a", default: 0], 400)
        XCTAssertGreaterThan(held.served["b", default: 0], 400)

        // Without a hold the oldest request goes first whatever its user: with 5 requests of
        // each user queued, the slot moves every 5 requests.
        let unheld = twoFloodsOnOneSlot(hold: .zero, milliseconds: 1000)
        XCTAssertGreaterThan(unheld.moves, 150)
    }
}
