@testable import SQLText
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

    /// The word-at-a-time scan flags every special byte in every lane, and nothing at 0x80 and up.
    func testTheEightByteScanFlagsEverySpecialByteInEveryLane() {
        let special = Set(Array("\"#'-/`0123456789".utf8))
        for byte in 0...255 {
            XCTAssertEqual(SQLShape.isSpecial(UInt8(byte)), special.contains(UInt8(byte)), "byte \(byte)")
            for lane in 0..<8 {
                var bytes = Array(repeating: UInt8(ascii: "a"), count: 8)
                bytes[lane] = UInt8(byte)
                let word = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                let flagged = SQLShape.maybeSpecial(word)
                if special.contains(UInt8(byte)) {
                    XCTAssertEqual(flagged.trailingZeroBitCount >> 3, lane, "byte \(byte) in lane \(lane)")
                }
                if byte >= 0x80 || byte == 0x60 || (0x22...0x39).contains(byte) == false {
                    XCTAssertEqual(flagged != 0, byte == 0x60, "byte \(byte) in lane \(lane)")
                }
            }
        }
    }

    /// Values are masked wherever they fall against the eight-byte steps, and names stay.
    func testMaskingDoesNotDependOnAlignment() {
        for pad in 0..<17 {
            let p = String(repeating: " ", count: pad)
            XCTAssertEqual(shape("SELECT c FROM\(p) sbtest1 WHERE id=5050 AND k = 'v'"), shape("SELECT c FROM\(p) sbtest1 WHERE id=7 AND k = 'w'"))
            XCTAssertNotEqual(shape("SELECT c FROM\(p) sbtest1 WHERE id=5"), shape("SELECT c FROM\(p) sbtest2 WHERE id=5"))
            XCTAssertNotEqual(shape("SELECT c\(p), `x1` FROM t"), shape("SELECT c\(p), `x2` FROM t"))
            XCTAssertNil(shape("SELECT (c)\(p) FROM t -- note"))
            XCTAssertNil(shape("SELECT (c)\(p) FROM t # é note"))
        }
    }

    /// Runs are taken eight bytes at a time, their last part as one word: every byte of a run of
    /// any length, before or after a masked value, still counts.
    func testEveryByteOfARunCountsWhateverItsLength() {
        for length in 1...20 {
            let text = String(repeating: "x", count: length)
            for at in 0..<length {
                var changed = Array(text.utf8)
                changed[at] = UInt8(ascii: "y")
                let other = String(decoding: changed, as: UTF8.self)
                XCTAssertNotEqual(shape(text), shape(other), "length \(length), byte \(at)")
                XCTAssertNotEqual(shape("SELECT 1, " + text), shape("SELECT 1, " + other), "after a value: length \(length), byte \(at)")
                XCTAssertNotEqual(shape(text + " = 'v'"), shape(other + " = 'v'"), "before a value: length \(length), byte \(at)")
            }
            XCTAssertNotEqual(shape(text), shape(text + "x"))
            XCTAssertEqual(shape(text + " = 'v' AND " + text), shape(text + " = 'w' AND " + text))
        }
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
