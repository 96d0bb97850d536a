import SQLText
import XCTest

final class SQLStatementInfoTests: XCTestCase {
    private func readOnly(_ sql: String) -> Bool { SQLStatementInfo.classify(sql).isReadOnly }
    private func pins(_ sql: String) -> SQLPinReasons { SQLStatementInfo.classify(sql).pinReasons }

    func testFirstKeyword() {
        XCTAssertEqual(SQLStatementInfo.classify("  select 1").firstKeyword, "SELECT")
        XCTAssertEqual(SQLStatementInfo.classify("/* hi */ -- x\n Insert into t values (1)").firstKeyword, "INSERT")
        XCTAssertEqual(SQLStatementInfo.classify("((select 1)) union (select 2)").firstKeyword, "SELECT")
        XCTAssertEqual(SQLStatementInfo.classify("/*!40101 SET NAMES utf8 */").firstKeyword, "SET")
        XCTAssertEqual(SQLStatementInfo.classify("").firstKeyword, "")
        XCTAssertEqual(SQLStatementInfo.classify("?").firstKeyword, "")
    }

    func testReadOnlyStatements() {
        for sql in ["SELECT 1", "select * from t where a = 'FOR UPDATE'", "SHOW TABLES", "SHOW CREATE TABLE t",
                    "DESCRIBE t", "DESC t", "EXPLAIN SELECT * FROM t", "EXPLAIN FORMAT=JSON SELECT 1",
                    "WITH c AS (SELECT 1) SELECT * FROM c", "(SELECT 1) UNION (SELECT 2)", "SELECT SLEEP(1), UUID()",
                    "SELECT LAST_INSERT_ID()", "SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 1", "SELECT FOUND_ROWS()",
                    "SELECT REPLACE(name, 'a', 'b') FROM t", "SELECT @x", "SELECT 1;", "SELECT `update` FROM `into`",
                    "select a from t order by a desc", "SELECT a = @b FROM t"] {
            XCTAssertTrue(readOnly(sql), sql)
        }
    }

    func testWritesAndLockingReadsAreNotReadOnly() {
        for sql in ["INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "DELETE FROM t", "REPLACE INTO t VALUES (1)",
                    "SELECT * FROM t FOR UPDATE", "select * from t for share", "SELECT * FROM t LOCK IN SHARE MODE",
                    "SELECT * FROM t FOR UPDATE SKIP LOCKED", "SELECT 1 INTO @x", "SELECT a INTO OUTFILE '/tmp/x' FROM t",
                    "SELECT a FROM t INTO DUMPFILE '/tmp/y'", "SELECT @x := 1", "SELECT GET_LOCK('a', 1)",
                    "SELECT RELEASE_LOCK('a')", "SELECT RELEASE_ALL_LOCKS()", "SELECT IS_USED_LOCK('a')",
                    "SELECT NEXTVAL(s)", "SELECT SETVAL(s, 5)", "SELECT LASTVAL(s)", "SELECT NEXT VALUE FOR s",
                    "SELECT LAST_INSERT_ID(5)", "SELECT 1; SELECT 2", "SELECT 1; DELETE FROM t",
                    "EXPLAIN DELETE FROM t", "EXPLAIN ANALYZE SELECT 1", "DESCRIBE UPDATE t SET a = 1",
                    "WITH c AS (SELECT 1) DELETE FROM t", "SET @x = 1", "CALL p()", "BEGIN", "COMMIT", "DO 1",
                    "SELECT * FROM t /*!50000 FOR UPDATE */", "SELECT 'abc", "SELECT /* open", "ANALYZE TABLE t",
                    "LOCK TABLES t READ", "USE db", "", "  ", "-- only a comment"] {
            XCTAssertFalse(readOnly(sql), sql)
        }
    }

    func testTransactions() {
        for sql in ["BEGIN", "begin work", "START TRANSACTION", "start transaction read only",
                    "START TRANSACTION WITH CONSISTENT SNAPSHOT", "XA START 'x'", "BEGIN; SELECT 1"] {
            XCTAssertTrue(SQLStatementInfo.classify(sql).startsTransaction, sql)
        }
        for sql in ["BEGIN NOT ATOMIC SELECT 1; END", "SELECT 'BEGIN'", "COMMIT", "SET TRANSACTION READ ONLY", "START SLAVE"] {
            XCTAssertFalse(SQLStatementInfo.classify(sql).startsTransaction, sql)
        }
        for sql in ["COMMIT", "commit work", "ROLLBACK", "XA COMMIT 'x'", "XA ROLLBACK 'x'"] {
            XCTAssertTrue(SQLStatementInfo.classify(sql).endsTransaction, sql)
        }
        for sql in ["ROLLBACK TO SAVEPOINT a", "rollback work to a", "SAVEPOINT a", "SELECT 1"] {
            XCTAssertFalse(SQLStatementInfo.classify(sql).endsTransaction, sql)
        }
    }

    func testPinReasons() {
        XCTAssertEqual(pins("SET @x = 1"), .userVariableAssignment)
        XCTAssertEqual(pins("SET @a := 1, @b = 2"), .userVariableAssignment)
        XCTAssertEqual(pins("SELECT @x := id FROM t"), .userVariableAssignment)
        XCTAssertEqual(pins("SELECT id INTO @x FROM t LIMIT 1"), .userVariableAssignment)
        XCTAssertEqual(pins("SET @@session.sql_mode = ''"), [])
        XCTAssertEqual(pins("SET NAMES utf8mb4"), [])
        XCTAssertEqual(pins("CREATE TEMPORARY TABLE tmp (a INT)"), .temporaryTable)
        XCTAssertEqual(pins("create or replace temporary table tmp (a int)"), .temporaryTable)
        XCTAssertEqual(pins("CREATE TABLE t (temporary INT)"), [])
        XCTAssertEqual(pins("LOCK TABLES t WRITE"), .lockTables)
        XCTAssertEqual(pins("lock table t read"), .lockTables)
        XCTAssertEqual(pins("FLUSH TABLES WITH READ LOCK"), .lockTables)
        XCTAssertEqual(pins("SELECT GET_LOCK('x', 10)"), .getLock)
        XCTAssertEqual(pins("PREPARE s FROM 'SELECT ?'"), .sqlPrepare)
        XCTAssertEqual(pins("EXECUTE s USING @a"), .sqlPrepare)
        XCTAssertEqual(pins("DEALLOCATE PREPARE s"), .sqlPrepare)
        XCTAssertEqual(pins("DROP PREPARE s"), .sqlPrepare)
        XCTAssertEqual(pins("DROP TABLE s"), [])
        XCTAssertEqual(pins("SELECT SQL_CALC_FOUND_ROWS * FROM t"), .foundRows)
        XCTAssertEqual(pins("SELECT FOUND_ROWS()"), .foundRows)
        XCTAssertEqual(pins("SELECT LAST_INSERT_ID()"), .lastInsertID)
        XCTAssertEqual(pins("UPDATE t SET id = LAST_INSERT_ID(id + 1)"), .lastInsertID)
        XCTAssertEqual(pins("SELECT 1; SELECT 2"), .multiStatement)
        XCTAssertEqual(pins("SELECT 1;"), [])
        XCTAssertEqual(pins("SELECT 1;;  ; "), [])
        XCTAssertEqual(pins("HANDLER t OPEN"), .handler)
        XCTAssertEqual(pins("SELECT 'GET_LOCK(1)', `LAST_INSERT_ID`"), [])
        XCTAssertEqual(pins("SELECT 1; SET @x = 1"), [.multiStatement, .userVariableAssignment])
    }

    func testUserVariables() {
        XCTAssertTrue(SQLStatementInfo.classify("SELECT * FROM t WHERE a = @x").usesUserVariables)
        XCTAssertTrue(SQLStatementInfo.classify("SET @x = 1").usesUserVariables)
        XCTAssertFalse(SQLStatementInfo.classify("SELECT @@version").usesUserVariables)
        XCTAssertFalse(SQLStatementInfo.classify("CREATE USER 'u'@'localhost'").usesUserVariables)
        XCTAssertFalse(SQLStatementInfo.classify("SELECT '@x'").usesUserVariables)
    }

    func testStatementCount() {
        XCTAssertEqual(SQLStatementInfo.classify("SELECT 1; SELECT ';'; -- x\n SELECT 3;").statementCount, 3)
        XCTAssertEqual(SQLStatementInfo.classify("  ").statementCount, 0)
    }
}
