import SQLText
import XCTest

final class SQLDigestTests: XCTestCase {
    private func digest(_ sql: String) -> String { SQLDigest.normalize(sql).text }

    func testLiteralsBecomePlaceholders() {
        XCTAssertEqual(digest("select * from t where a = 'x' and b = 12.5 and c = 0x1F and d = b'1' and e = ?"),
                       "SELECT * FROM t WHERE a = ? AND b = ? AND c = ? AND d = ? AND e = ?")
        XCTAssertEqual(digest(#"SELECT 'it\'s', 'it''s', "a\"b", N'n', _utf8mb4'u', X'00'"#), "SELECT ?, ?, ?, ?, ?, ?")
        XCTAssertEqual(digest("SELECT TRUE, FALSE, NULL"), "SELECT TRUE, FALSE, NULL")
    }

    func testUnaryMinusIsPartOfTheLiteral() {
        XCTAssertEqual(digest("SELECT -5, a - 5, a-5, (-1), x = -2.5e3, 3 - -4"), "SELECT ?, a - ?, a-?, (?), x = ?, ? - ?")
        XCTAssertEqual(digest("SELECT a FROM t WHERE b > - 1 LIMIT 10"), "SELECT a FROM t WHERE b > ? LIMIT ?")
        XCTAssertEqual(digest("SELECT f(x) - 1"), "SELECT f(x) - ?")
    }

    func testInListsFold() {
        XCTAssertEqual(digest("SELECT * FROM t WHERE id IN (1,2,3)"), "SELECT * FROM t WHERE id IN (?+)")
        XCTAssertEqual(digest("SELECT * FROM t WHERE id in ( 1 , -2, 'a', NULL, ?)"), "SELECT * FROM t WHERE id IN (?+)")
        XCTAssertEqual(digest("SELECT * FROM t WHERE id IN (7)"), digest("SELECT * FROM t WHERE id IN (7, 8, 9, 10)"))
        XCTAssertEqual(digest("SELECT * FROM t WHERE id NOT IN (1,2)"), "SELECT * FROM t WHERE id NOT IN (?+)")
        // Not only values: no fold, but the values still go.
        XCTAssertEqual(digest("SELECT * FROM t WHERE id IN (1, b)"), "SELECT * FROM t WHERE id IN (?, b)")
        XCTAssertEqual(digest("SELECT * FROM t WHERE id IN (SELECT x FROM u WHERE y = 1)"),
                       "SELECT * FROM t WHERE id IN (SELECT x FROM u WHERE y = ?)")
    }

    func testValuesRowsFold() {
        XCTAssertEqual(digest("INSERT INTO t (a, b) VALUES (1,'a'),(2,'b'), (3, NULL)"), "INSERT INTO t (a, b) VALUES (?+)")
        XCTAssertEqual(digest("insert into t values (1)"), digest("INSERT INTO t VALUES (1), (2)"))
        XCTAssertEqual(digest("INSERT INTO t VALUES (1, NOW())"), "INSERT INTO t VALUES (?, NOW())")
        XCTAssertEqual(digest("INSERT INTO t VALUES (1),(2) ON DUPLICATE KEY UPDATE a = 3"),
                       "INSERT INTO t VALUES (?+) ON DUPLICATE KEY UPDATE a = ?")
    }

    func testWhitespaceAndComments() {
        XCTAssertEqual(digest("  SELECT\t1 -- one\n ,  2 # two\n /* three */ ;  "), "SELECT ? , ?")
        XCTAssertEqual(digest("SELECT/**/a"), "SELECT a")
        XCTAssertEqual(digest("SELECT /*!40001 SQL_NO_CACHE */ a FROM t"), "SELECT SQL_NO_CACHE a FROM t")
        XCTAssertEqual(digest("SELECT /*+ MAX_EXECUTION_TIME(1000) */ a FROM t"), "SELECT a FROM t")
    }

    func testKeywordsUppercaseNamesKeepCase() {
        XCTAssertEqual(digest("select MyCol from Orders o join Items i on o.id = i.order_id"),
                       "SELECT MyCol FROM Orders o JOIN Items i ON o.id = i.order_id")
        // After a dot a keyword is a name.
        XCTAssertEqual(digest("select t.key from t"), "SELECT t.key FROM t")
    }

    func testBackticksDropWhenPlain() {
        XCTAssertEqual(digest("SELECT `a`, `my col`, `order`, `1x`, `b``c` FROM `db`.`t`"),
                       "SELECT a, `my col`, `order`, `1x`, `b``c` FROM db.t")
        XCTAssertEqual(digest("SELECT a FROM t"), digest("select `a` from `t`"))
    }

    func testVariablesStay() {
        XCTAssertEqual(digest("SET @x := 5, @@session.sql_mode = 'ANSI'"), "SET @x := ?, @@session.sql_mode = ?")
    }

    func testHashIsStableFNV1a() {
        let d = SQLDigest.normalize("SELECT 1")
        XCTAssertEqual(d.text, "SELECT ?")
        XCTAssertEqual(d.hash, FNV1a.hash(Array("SELECT ?".utf8)))
        // Known FNV-1a 64 vectors.
        XCTAssertEqual(FNV1a.hash([UInt8]()), 0xcbf29ce484222325)
        XCTAssertEqual(FNV1a.hash(Array("a".utf8)), 0xaf63dc4c8601ec8c)
        XCTAssertEqual(SQLDigest.normalize("select 2").hash, d.hash)
    }

    func testMalformedInputs() {
        XCTAssertEqual(digest("SELECT 'abc"), "SELECT ?")
        XCTAssertEqual(digest("SELECT a /* never closed"), "SELECT a ?")
        XCTAssertEqual(digest("SELECT * FROM t WHERE id IN (1, 2"), "SELECT * FROM t WHERE id IN (?, ?")
        XCTAssertEqual(digest(""), "")
        XCTAssertEqual(digest(";;"), "")
        XCTAssertEqual(digest("-"), "-")
    }
}
