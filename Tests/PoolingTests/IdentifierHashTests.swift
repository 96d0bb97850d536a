import Pooling
import XCTest

/// Connection, request and backend identifiers hash themselves with a multiply-and-fold
/// instead of SipHash: sequential numbers and similar names must still spread over a
/// dictionary's buckets (it uses the low bits), and dictionaries must find them.
final class IdentifierHashTests: XCTestCase {
    private let seeds = [0, 1, 0x5bd1_e995, -1]

    /// Random hashing would fill about 647 of 1024 buckets.
    private func assertSpread<Key: Hashable>(_ keys: [Key], _ name: String) {
        for seed in seeds {
            let buckets = Set(keys.map { $0._rawHashValue(seed: seed) & 1023 })
            XCTAssertGreaterThan(buckets.count, 600, "\(name), seed \(seed)")
        }
    }

    func testSequentialIDsAndSimilarNamesSpreadOverTheLowBits() {
        assertSpread((1...1024).map { ConnectionID(UInt64($0)) }, "connections")
        assertSpread((1...1024).map { RequestID(UInt64($0)) }, "requests")
        assertSpread((1...1024).map { BackendID("10.0.\($0 / 256).\($0 % 256):3306") }, "backends")
    }

    private func assertFound<Key: Hashable>(_ make: (Int) -> Key, missing: Key) {
        var byKey: [Key: Int] = [:]
        for i in 0..<10_000 { byKey[make(i)] = i }
        for i in stride(from: 0, to: 10_000, by: 7) { XCTAssertEqual(byKey[make(i)], i) }
        XCTAssertNil(byKey[missing])
    }

    func testEqualIDsHashEquallyAndDictionariesFindThem() {
        XCTAssertEqual(ConnectionID(42)._rawHashValue(seed: 7), ConnectionID(42)._rawHashValue(seed: 7))
        XCTAssertEqual(RequestID(42)._rawHashValue(seed: 7), RequestID(42)._rawHashValue(seed: 7))
        XCTAssertEqual(BackendID("db1:3306")._rawHashValue(seed: 7), BackendID("db1:3306")._rawHashValue(seed: 7))
        assertFound({ ConnectionID(UInt64($0)) }, missing: ConnectionID(10_000))
        assertFound({ RequestID(UInt64($0)) }, missing: RequestID(10_000))
        assertFound({ BackendID("db\($0):3306") }, missing: BackendID("db10000:3306"))
    }
}
