import MySQLWire
import XCTest

/// The rarely used fields live in a shared box: a copy must never see another copy's changes.
final class ResponseSummaryTests: XCTestCase {
    func testCopiesAreIndependent() {
        var original = ResponseSummary(statusFlags: .autocommit, info: "Rows matched: 1")
        var copy = original
        copy.error = ERRPacket(errorCode: 1064, sqlState: "42000", message: "syntax")
        copy.sessionStateChanges.append(.schema("shop"))
        copy.info = "changed"
        XCTAssertNil(original.error)
        XCTAssertFalse(original.isError)
        XCTAssertEqual(original.info, "Rows matched: 1")
        XCTAssertEqual(original.sessionStateChanges, [])
        XCTAssertTrue(copy.isError)
        XCTAssertEqual(copy.sessionStateChanges, [.schema("shop")])
        XCTAssertNotEqual(original, copy)

        original.sessionStateChanges = [.stateChange(true)]
        XCTAssertEqual(copy.sessionStateChanges, [.schema("shop")], "the copy kept its own box")
        XCTAssertEqual(copy.info, "changed")
    }

    func testEmptyRareFieldsEqualTheDefaults() {
        var touched = ResponseSummary(statusFlags: .autocommit)
        touched.error = ERRPacket(errorCode: 1, sqlState: nil, message: "x")
        touched.error = nil
        touched.info = ""
        XCTAssertEqual(touched, ResponseSummary(statusFlags: .autocommit))
        XCTAssertEqual(touched.hashValue, ResponseSummary(statusFlags: .autocommit).hashValue)
    }
}
