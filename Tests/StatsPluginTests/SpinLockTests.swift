@testable import StatsPlugin
import Foundation
import XCTest

final class SpinLockTests: XCTestCase {
    /// More threads than this machine has cores, so holders get preempted while others wait: no
    /// increment may be lost, and nobody may wait forever.
    func testNoUpdateIsLostUnderContention() {
        final class Shared: @unchecked Sendable {
            let lock = SpinLock<(count: Int, inside: Int, overlaps: Int)>((0, 0, 0))
        }
        let shared = Shared()
        let threads = 8, rounds = 20_000
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<rounds {
                shared.lock.withLock { s in
                    s.inside += 1
                    if s.inside != 1 { s.overlaps += 1 }
                    s.count += 1
                    s.inside -= 1
                }
            }
        }
        let final = shared.lock.withLock { $0 }
        XCTAssertEqual(final.count, threads * rounds)
        XCTAssertEqual(final.overlaps, 0)
    }

    func testTheValueIsReleasedWithTheLock() {
        final class Witness { static var alive = 0; init() { Witness.alive += 1 }; deinit { Witness.alive -= 1 } }
        do {
            let lock = SpinLock(Witness())
            XCTAssertEqual(Witness.alive, 1)
            lock.withLock { $0 = Witness() }
            XCTAssertEqual(Witness.alive, 1)
        }
        XCTAssertEqual(Witness.alive, 0)
    }
}
