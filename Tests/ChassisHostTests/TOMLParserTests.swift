@testable import ChassisHost
import XCTest

final class TOMLParserTests: XCTestCase {
    func testTablesKeysAndValues() throws {
        let doc = try TOMLParser.parse("""
        # comment
        [chassis]
        plugins = ["funnel", "stats"]   # trailing comment
        log-level = 'debug'

        [funnel]
        address = "127.0.0.1:4040"
        max-client-connections = 1_000
        ratio = 0.5
        enabled = true
        "quoted key" = "a\\tb\\u00e9"
        pool.mode = "transaction"
        inline = { a = 1, b = [2, 3] }

        [[funnel.users]]
        name = "alice"
        [[funnel.users]]
        name = "bob"
        """)
        guard case .table(let chassis)? = doc["chassis"], case .table(let funnel)? = doc["funnel"] else { return XCTFail("tables missing") }
        XCTAssertEqual(chassis["plugins"], .array([.string("funnel"), .string("stats")]))
        XCTAssertEqual(chassis["log-level"], .string("debug"))
        XCTAssertEqual(funnel["max-client-connections"], .integer(1000))
        XCTAssertEqual(funnel["ratio"], .float(0.5))
        XCTAssertEqual(funnel["enabled"], .boolean(true))
        XCTAssertEqual(funnel["quoted key"], .string("a\tbé"))
        guard case .table(let pool)? = funnel["pool"] else { return XCTFail("dotted key did not make a table") }
        XCTAssertEqual(pool["mode"], .string("transaction"))
        XCTAssertEqual(funnel["users"]?.jsonText, #"[{"name":"alice"},{"name":"bob"}]"#)
        XCTAssertEqual(funnel["inline"]?.jsonText, #"{"a":1,"b":[2,3]}"#)
    }

    func testMultilineStrings() throws {
        let doc = try TOMLParser.parse("a = \"\"\"\nline1\nline2\"\"\"\nb = '''x\\y'''\n")
        XCTAssertEqual(doc["a"], .string("line1\nline2"))
        XCTAssertEqual(doc["b"], .string("x\\y"))
    }

    func testErrorsNameTheLine() {
        for (text, line, fragment) in [
            ("a = 1\nb = \n", 2, "value expected"),
            ("[t]\n[t]\n", 2, "defined twice"),
            ("a = 1\na = 2\n", 2, "defined twice"),
            ("a = \"open\n", 1, "newline in a string"),
            ("a = 1979-05-27\n", 1, "dates are not supported"),
            ("a = [1, 2\n", 2, "']' expected"),
            ("a = 1 b = 2\n", 1, "after value"),
        ] {
            XCTAssertThrowsError(try TOMLParser.parse(text), text) { error in
                let e = error as! TOMLParser.SyntaxError
                XCTAssertEqual(e.line, line, text)
                XCTAssertTrue(e.message.contains(fragment), "\(text): \(e.message)")
            }
        }
    }
}
