@testable import SQLText
import XCTest

/// The cache must give exactly SQLShape.fingerprint's answer for every statement, whether it
/// finds a kept statement of the shape or not.
final class SQLShapeCacheTests: XCTestCase {
    private var cache: SQLShapeCache!

    override func setUp() { cache = SQLShapeCache.allocate() }
    override func tearDown() { cache.deallocate() }

    func plain(_ sql: [UInt8]) -> UInt64? { sql.withUnsafeBufferPointer { SQLShape.fingerprint($0) } }
    func cached(_ sql: [UInt8]) -> UInt64? { sql.withUnsafeBufferPointer { cache.fingerprint($0) } }
    func kept(_ sql: [UInt8]) -> UInt64? { sql.withUnsafeBufferPointer { cache.kept($0) } }

    /// Statements with `#` where a number goes and `$` where a quoted string goes.
    private static let templates = [
        "SELECT c FROM sbtest1 WHERE id=#",
        "SELECT c FROM sbtest2 WHERE id=#",
        "SELECT c FROM sbtest1 WHERE id BETWEEN # AND # ORDER BY c",
        "SELECT DISTINCT c FROM sbtest3 WHERE id BETWEEN # AND # ORDER BY c",
        "UPDATE sbtest4 SET k=k+1 WHERE id=#",
        "UPDATE sbtest4 SET c=$ WHERE id=#",
        "INSERT INTO sbtest1 (id, k, c, pad) VALUES (#, #, $, $)",
        "SELECT `users`.`id`, `users`.`name` FROM `users` WHERE `users`.`email` = $ LIMIT #",
        "SELECT * FROM orders WHERE customer_id = # AND status IN ($, $) AND total > #",
        "SELECT * FROM orders WHERE customer_id = #$",
        "SELECT * FROM t1 WHERE a=#AND b=$",
        "DELETE FROM sessions WHERE expires < # AND user_id=# AND token=$ AND kind=$ AND x=# AND y=#",
        "SELECT a, b, c FROM wide WHERE a=# AND b=# AND c=# AND d=# AND e=# AND f=# AND g=# AND h=# AND i=#",
        "SELECT col FROM tbl WHERE name = \"quoted # name\" AND v = #",
        "SELECT x FROM a_long_table_name WHERE y = # -- a comment",
        "SELECT x FROM a_long_table_name WHERE y = # /* note */",
        "SELECT x FROM a_long_table_name WHERE y = $ # hash comment",
        "SELECT x FROM t WHERE y=#",
        "SELECT #",
        "SELECT c FROM sbtest1 WHERE id=# AND t.5 = @1 AND v = 1e5",
        "SELECT c FROM sbtest1 WHERE id=#.5 AND w = x#",
        String(repeating: "SELECT c FROM sbtest1 WHERE id=# UNION ALL ", count: 6) + "SELECT 1",
    ]

    private static let numbers = ["0", "7", "42", "5012", "123456789", "1.25", "3.", "10.5"]
    private static let strings = ["''", "'a'", "'it''s'", "'x y z'", "'# not a comment'", "'-- nor this'", "'a\\'b'", "'1'"]

    private static func instance<R: RandomNumberGenerator>(_ template: String, _ rng: inout R) -> [UInt8] {
        var out: [UInt8] = []
        for b in template.utf8 {
            switch b {
            case UInt8(ascii: "#"): out += Array(numbers.randomElement(using: &rng)!.utf8)
            case UInt8(ascii: "$"): out += Array(strings.randomElement(using: &rng)!.utf8)
            default: out.append(b)
            }
        }
        return out
    }

    func testEveryAnswerIsTheFingerprint() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<20_000 {
            let sql = Self.instance(Self.templates.randomElement(using: &rng)!, &rng)
            XCTAssertEqual(cached(sql), plain(sql), String(decoding: sql, as: UTF8.self))
        }
    }

    /// One changed byte anywhere (a value, a name, a quote, a comment opening) must never be
    /// answered with the kept statement's fingerprint unless the fingerprint agrees.
    func testChangedBytesAreNotMistakenForTheKeptShape() {
        var rng = SeededGenerator(seed: 11)
        let replacements = Array("0123456789'\"`.-#/*\\ aZ_@(),=".utf8)
        for _ in 0..<20_000 {
            let template = Self.templates.randomElement(using: &rng)!
            let first = Self.instance(template, &rng)
            _ = cached(first)
            var changed = Self.instance(template, &rng)
            let at = Int.random(in: 0..<changed.count, using: &rng)
            if Bool.random(using: &rng) {
                changed[at] = replacements.randomElement(using: &rng)!
            } else if Bool.random(using: &rng) {
                changed.insert(replacements.randomElement(using: &rng)!, at: at)
            } else {
                changed.remove(at: at)
            }
            XCTAssertEqual(cached(changed), plain(changed), String(decoding: changed, as: UTF8.self))
        }
    }

    func testAShapeSeenOnceIsFoundByComparison() {
        let first = Array("SELECT c FROM sbtest1 WHERE id=5012".utf8)
        let second = Array("SELECT c FROM sbtest1 WHERE id=7".utf8)
        XCTAssertNil(kept(second), "nothing kept yet")
        XCTAssertEqual(cached(first), plain(first))
        XCTAssertEqual(kept(second), plain(second))
        XCTAssertNotNil(kept(second))
        let other = Array("SELECT c FROM sbtest2 WHERE id=7".utf8)
        XCTAssertNil(kept(other), "another table is another shape")
        let string = Array("SELECT c FROM sbtest1 WHERE id='7'".utf8)
        XCTAssertNil(kept(string), "a string where the kept statement had a number")
    }

    func testStatementsThatAreNotKept() {
        // A value within the first keyLength bytes would make a key per value.
        let early = Array("SELECT 1, c FROM sbtest1 WHERE id=5".utf8)
        _ = cached(early)
        XCTAssertNil(kept(early))
        // Longer than maxLength, more than maxValues values, a comment: fingerprinted each time.
        let long = Array(("SELECT c FROM sbtest1 WHERE id=1" + String(repeating: " ", count: SQLShapeCache.maxLength)).utf8)
        _ = cached(long)
        XCTAssertNil(kept(long))
        let many = Array("SELECT a FROM wide WHERE a=1 AND b=2 AND c=3 AND d=4 AND e=5 AND f=6 AND g=7 AND h=8 AND i=9".utf8)
        XCTAssertEqual(cached(many), plain(many))
        XCTAssertNil(kept(many))
        let comment = Array("SELECT c FROM sbtest1 WHERE id=1 -- note".utf8)
        XCTAssertNil(cached(comment))
        XCTAssertNil(kept(comment))
    }

    /// Four shapes share a group at most; a fifth replaces the oldest, and answers stay right.
    func testManyShapesReplaceEachOther() {
        for round in 0..<3 {
            for table in 0..<500 {
                let sql = Array("SELECT c FROM table_number_\(table) WHERE id=\(round * 1000 + table)".utf8)
                XCTAssertEqual(cached(sql), plain(sql))
            }
        }
    }
}

extension SQLShapeCacheTests {
    /// 64 shapes whose first 24 bytes are the same share one group of 4: it keeps missing, stops
    /// comparing, and still tries again now and then, so a shape that comes back is found.
    func testAGroupThatKeepsMissingStopsComparingThenTriesAgain() {
        func sql(_ column: Int, _ value: Int) -> [UInt8] { Array("SELECT id, name, email FROM users WHERE col\(column) = \(value)".utf8) }
        for round in 0..<4 {
            for column in 0..<64 {
                XCTAssertEqual(cached(sql(column, round)), plain(sql(column, round)))
            }
        }
        var found = false
        for value in 0..<80 {
            XCTAssertEqual(cached(sql(7, value)), plain(sql(7, value)))
            if kept(sql(7, 1000)) != nil { found = true }
        }
        XCTAssertTrue(found, "the shape that came back was kept again")
        XCTAssertEqual(kept(sql(7, 1000)), plain(sql(7, 1000)))
    }
}

/// xorshift64*: deterministic, so a failure repeats.
private struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
