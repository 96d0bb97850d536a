import SQLText
import XCTest

final class SQLTokenizerTests: XCTestCase {
    /// (kind, text) of every token, trivia included.
    private func lex(_ sql: String) -> [(SQLTokenKind, String)] {
        let bytes = Array(sql.utf8)
        return SQLTokenizer.tokens(of: bytes).map { ($0.kind, String(decoding: bytes[$0.range], as: UTF8.self)) }
    }

    private func significant(_ sql: String) -> [(SQLTokenKind, String)] {
        lex(sql).filter { ![.whitespace, .comment, .executableCommentStart, .executableCommentEnd].contains($0.0) }
    }

    private func assertTokens(_ sql: String, _ expected: [(SQLTokenKind, String)], file: StaticString = #filePath, line: UInt = #line) {
        let got = significant(sql)
        XCTAssertEqual(got.map(\.0), expected.map(\.0), "\(got)", file: file, line: line)
        XCTAssertEqual(got.map(\.1), expected.map(\.1), file: file, line: line)
    }

    func testTokensCoverTheInputWithoutGaps() {
        let sql = "SELECT `a``b`, 'x''y' -- c\n FROM t /* d */ WHERE id=?;"
        let tokens = SQLTokenizer.tokens(of: Array(sql.utf8))
        var position = 0
        for token in tokens {
            XCTAssertEqual(token.start, position)
            XCTAssertGreaterThan(token.end, token.start)
            position = token.end
        }
        XCTAssertEqual(position, sql.utf8.count)
    }

    func testComments() {
        XCTAssertEqual(lex("a -- x\nb").map(\.0), [.identifier, .whitespace, .comment, .whitespace, .identifier])
        XCTAssertEqual(lex("a #x\nb").map(\.0), [.identifier, .whitespace, .comment, .whitespace, .identifier])
        XCTAssertEqual(lex("a/* x */b").map(\.0), [.identifier, .comment, .identifier])
        // "--" without a space after it is two minus signs.
        assertTokens("1--2", [(.number, "1"), (.operator, "-"), (.operator, "-"), (.number, "2")])
        XCTAssertEqual(lex("--").map(\.0), [.comment])
    }

    func testExecutableCommentsAreTokens() {
        XCTAssertEqual(lex("/*!50100 KEY_BLOCK_SIZE=1 */").map(\.0),
                       [.executableCommentStart, .whitespace, .identifier, .operator, .number, .whitespace, .executableCommentEnd])
        assertTokens("SELECT /*!40001 SQL_NO_CACHE */ 1", [(.identifier, "SELECT"), (.identifier, "SQL_NO_CACHE"), (.number, "1")])
        assertTokens("SELECT /*M!100100 a*/ 1", [(.identifier, "SELECT"), (.identifier, "a"), (.number, "1")])
        assertTokens("SELECT /*!STRAIGHT_JOIN*/ 1", [(.identifier, "SELECT"), (.identifier, "STRAIGHT_JOIN"), (.number, "1")])
        // Outside an executable comment, */ is two operators.
        assertTokens("2*/3", [(.number, "2"), (.operator, "*"), (.operator, "/"), (.number, "3")])
    }

    func testQuotedStrings() {
        assertTokens(#"'it\'s'"#, [(.string, #"'it\'s'"#)])
        assertTokens("'it''s'", [(.string, "'it''s'")])
        assertTokens(#""a\"b""#, [(.string, #""a\"b""#)])
        assertTokens(#""a""b" 'c\\' 'd'"#, [(.string, #""a""b""#), (.string, #"'c\\'"#), (.string, "'d'")])
        assertTokens("N'x' _utf8mb4'y'", [(.string, "N'x'"), (.identifier, "_utf8mb4"), (.string, "'y'")])
        assertTokens("'a\"b'", [(.string, "'a\"b'")])
    }

    func testBacktickedNames() {
        assertTokens("`my table`.`a``b`", [(.quotedIdentifier, "`my table`"), (.dot, "."), (.quotedIdentifier, "`a``b`")])
        // Backslash does not escape inside backticks.
        assertTokens(#"`a\` x"#, [(.quotedIdentifier, #"`a\`"#), (.identifier, "x")])
    }

    func testNumbers() {
        assertTokens("1 12.5 .5 5. 1e10 1.5E-3 2e+4", [(.number, "1"), (.number, "12.5"), (.number, ".5"), (.number, "5."),
                                                     (.number, "1e10"), (.number, "1.5E-3"), (.number, "2e+4")])
        assertTokens("0x1F X'1f' x'' 0b101 b'01' B'1'", [(.hexNumber, "0x1F"), (.hexNumber, "X'1f'"), (.hexNumber, "x''"),
                                                        (.bitNumber, "0b101"), (.bitNumber, "b'01'"), (.bitNumber, "B'1'")])
        // Names may start with digits; 0x without digits is a name too.
        assertTokens("1abc 0x 0xfg 1e", [(.identifier, "1abc"), (.identifier, "0x"), (.identifier, "0xfg"), (.identifier, "1e")])
        assertTokens("t.5a", [(.identifier, "t"), (.dot, "."), (.identifier, "5a")])
    }

    func testVariables() {
        assertTokens("@a @a.b @'x y' @`z` @@global.max_connections @@x",
                     [(.userVariable, "@a"), (.userVariable, "@a.b"), (.userVariable, "@'x y'"), (.userVariable, "@`z`"),
                      (.systemVariable, "@@global.max_connections"), (.systemVariable, "@@x")])
        assertTokens("'u'@'localhost'", [(.string, "'u'"), (.operator, "@"), (.string, "'localhost'")])
        assertTokens("@", [(.operator, "@")])
    }

    func testOperatorsAndPunctuation() {
        assertTokens("a<=>b:=c<>d!=e>=f->g->>h||i(?,?);",
                     [(.identifier, "a"), (.operator, "<=>"), (.identifier, "b"), (.operator, ":="), (.identifier, "c"),
                      (.operator, "<>"), (.identifier, "d"), (.operator, "!="), (.identifier, "e"), (.operator, ">="),
                      (.identifier, "f"), (.operator, "->"), (.identifier, "g"), (.operator, "->>"), (.identifier, "h"),
                      (.operator, "||"), (.identifier, "i"), (.leftParen, "("), (.placeholder, "?"), (.comma, ","),
                      (.placeholder, "?"), (.rightParen, ")"), (.semicolon, ";")])
    }

    func testNonASCIINames() {
        assertTokens("SELECT čaj FROM ťabuľka", [(.identifier, "SELECT"), (.identifier, "čaj"), (.identifier, "FROM"), (.identifier, "ťabuľka")])
    }

    func testUnterminatedInputEndsInOneToken() {
        for sql in ["'abc", "\"abc\\", "`abc", "/* abc", "SELECT 'a\\'", "x'0", "@'abc", "/*", "'", "`"] {
            let tokens = SQLTokenizer.tokens(of: Array(sql.utf8))
            XCTAssertEqual(tokens.last?.kind, .unterminated, sql)
            XCTAssertEqual(tokens.last?.end, sql.utf8.count, sql)
        }
    }

    func testArbitraryBytesNeverHang() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in
                Array("'\"`\\/*!-#@?.0x1eb;() \nM".utf8).randomElement(using: &generator)!
            }
            let tokens = SQLTokenizer.tokens(of: bytes)
            XCTAssertEqual(tokens.last?.end ?? 0, bytes.count)
            _ = SQLStatementInfo.classify(bytes)
            _ = SQLDigest.normalize(bytes)
        }
    }

    func testRawBufferInput() {
        let sql = Array("SELECT 1".utf8)
        let kinds = sql.withUnsafeBytes { raw in SQLTokenizer(raw).map(\.kind) }
        XCTAssertEqual(kinds, [.identifier, .whitespace, .number])
    }
}
