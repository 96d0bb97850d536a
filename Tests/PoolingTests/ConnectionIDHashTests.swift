import Pooling
import XCTest

/// ConnectionID hashes itself with a multiply-and-fold instead of SipHash: the pool's sequential
/// ids must still spread over a dictionary's buckets (it uses the low bits).
final class ConnectionIDHashTests: XCTestCase {
    func testSequentialIDsSpreadOverTheLowBits() {
        for seed in [0, 1, 0x5bd1_e995, -1] {
            let buckets = Set((1...1024).map { ConnectionID(UInt64($0))._rawHashValue(seed: seed) & 1023 })
            // Random hashing would fill about 647 of 1024 buckets.
            XCTAssertGreaterThan(buckets.count, 600, "seed \(seed)")
        }
    }

    func testEqualIDsHashEquallyAndDictionariesFindThem() {
        XCTAssertEqual(ConnectionID(42)._rawHashValue(seed: 7), ConnectionID(42)._rawHashValue(seed: 7))
        var byID: [ConnectionID: Int] = [:]
        for i in 0..<10_000 { byID[ConnectionID(UInt64(i))] = i }
        for i in stride(from: 0, to: 10_000, by: 7) { XCTAssertEqual(byID[ConnectionID(UInt64(i))], i) }
        XCTAssertNil(byID[ConnectionID(10_000)])
    }
}
