import SQLText
import XCTest

/// SQLShape must never give two statements of different digests the same shape (a digest cache
/// keyed by shape would then count a query under another's digest).
final class SQLShapeTests: XCTestCase {
    private func shape(_ sql: String) -> UInt64? {
        Array(sql.utf8).withUnsafeBufferPointer { SQLShape.fingerprint($0) }
    }

    private func digest(_ sql: String) -> UInt64 { SQLDigest.normalize(sql).hash }

    func testValuesAreMasked() {
        XCTAssertEqual(shape("SELECT c FROM sbtest1 WHERE id=5050"), shape("SELECT c FROM sbtest1 WHERE id=17"))
        XCTAssertEqual(shape("SELECT * FROM t WHERE a = 1.25 AND b = 'x'"), shape("SELECT * FROM t WHERE a = 3 AND b = 'it''s'"))
        XCTAssertEqual(shape("UPDATE t SET v = -5 WHERE id IN (1, 2)"), shape("UPDATE t SET v = -12 WHERE id IN (7, 8)"))
    }

    func testNamesAndOtherTextAreNotMasked() {
        XCTAssertNotEqual(shape("SELECT c FROM sbtest1 WHERE id=1"), shape("SELECT c FROM sbtest2 WHERE id=1"))
        XCTAssertNotEqual(shape("SELECT `col 1` FROM t"), shape("SELECT `col 2` FROM t"))
        XCTAssertNotEqual(shape("SELECT \"a\" FROM t"), shape("SELECT \"b\" FROM t"))
        XCTAssertNotEqual(shape("SELECT @1"), shape("SELECT @2"))
        XCTAssertNotEqual(shape("SELECT t.5 FROM t"), shape("SELECT t.6 FROM t"))
        XCTAssertNotEqual(shape("SELECT 1e5"), shape("SELECT 2e5"))
        XCTAssertNotEqual(shape("SELECT 0x1F"), shape("SELECT 0x2F"))
        XCTAssertNotEqual(shape("SELECT 5abc FROM t"), shape("SELECT 6abc FROM t"))
    }

    func testCommentsAndBackslashesHaveNoShape() {
        XCTAssertNil(shape("SELECT 1 /* trace 42 */"))
        XCTAssertNil(shape("/*!50001 SELECT 1 */"))
        XCTAssertNil(shape("SELECT 1 -- note"))
        XCTAssertNil(shape("SELECT 1 # note"))
        XCTAssertNil(shape("SELECT 'a\\'b'"))
        XCTAssertNil(shape("SELECT 'unterminated"))
    }

    /// The cache's rule, over a corpus: equal shapes imply equal digests.
    func testEqualShapesHaveEqualDigests() {
        let templates = [
            "SELECT c FROM sbtest%d WHERE id=%d", "SELECT c FROM sbtest1 WHERE id BETWEEN %d AND %d",
            "INSERT INTO t (a, b) VALUES (%d, '%d'), (%d, 'x')", "SELECT * FROM t WHERE a IN (%d, %d) LIMIT %d",
            "select x.%d from x where y = %d", "SELECT %d.%d", "SELECT -%d - %d", "SELECT a-%d FROM t%d",
            "SELECT '%d' '%d'", "SELECT _utf8mb4'%d' = x'%d'", "SELECT `t%d`.a FROM `t%d` WHERE b=%d.5",
            "SELECT %d FROM dual WHERE \"%d\" = '%d'", "SET @v%d = %d", "SELECT %d.%d.%d", "SELECT %de%d",
        ]
        var seen: [UInt64: (digest: UInt64, sql: String)] = [:]
        var rng = SystemRandomNumberGenerator()
        for template in templates {
            for _ in 0..<60 {
                var sql = ""
                var parts = template.components(separatedBy: "%d")
                sql = parts.removeFirst()
                for part in parts { sql += String(Int.random(in: 0..<4, using: &rng)) + part }
                guard let s = shape(sql) else { continue }
                let d = digest(sql)
                if let earlier = seen[s] {
                    XCTAssertEqual(earlier.digest, d, "'\(earlier.sql)' and '\(sql)' share a shape but not a digest")
                } else {
                    seen[s] = (d, sql)
                }
            }
        }
        XCTAssertGreaterThan(seen.count, templates.count, "the corpus produced shapes")
    }
}
