import Dispatch
import Foundation
import SQLText
import XCTest

/// Not a timed assertion: prints what classify and normalize cost per statement (run with -c release).
final class SQLTextCostTests: XCTestCase {
    func testPrintCostPerStatement() {
        let sql = Array("SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'open' AND o.id IN (1, 2, 3, 4) ORDER BY o.id DESC LIMIT 50".utf8)
        let n = 10_000
        var readOnly = 0
        var start = DispatchTime.now().uptimeNanoseconds
        sql.withUnsafeBufferPointer { bytes in
            for _ in 0..<n where SQLStatementInfo.classify(bytes).isReadOnly { readOnly += 1 }
        }
        let classifyNs = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(n)
        var hash: UInt64 = 0
        start = DispatchTime.now().uptimeNanoseconds
        sql.withUnsafeBufferPointer { bytes in
            for _ in 0..<n { hash ^= SQLDigest.normalize(bytes).hash }
        }
        let normalizeNs = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(n)
        var shape: UInt64 = 0
        start = DispatchTime.now().uptimeNanoseconds
        sql.withUnsafeBufferPointer { bytes in
            for _ in 0..<n { shape ^= SQLShape.fingerprint(bytes) ?? 1 }
        }
        let shapeNs = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(n)
        print(String(format: "SQLText cost (%d-byte SELECT): classify %.0f ns, normalize %.0f ns, shape %.0f ns",
                     sql.count, classifyNs, normalizeNs, shapeNs))
        XCTAssertEqual(shape, 0, "an even number of equal fingerprints cancels out")
        XCTAssertEqual(readOnly, n)
        XCTAssertEqual(hash, 0, "an even number of equal hashes cancels out")
    }
}
