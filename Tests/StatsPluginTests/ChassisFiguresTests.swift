@testable import StatsPlugin
import XCTest

final class ChassisFiguresTests: XCTestCase {
    func testProcessFiguresAreSane() throws {
        XCTAssertGreaterThan(ChassisFigures.cpuSeconds(), 0)
        XCTAssertGreaterThan(try XCTUnwrap(ChassisFigures.residentBytes()), 1_000_000)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(ChassisFigures.openFileDescriptors()), 3)
        XCTAssertGreaterThan(try XCTUnwrap(ChassisFigures.maxFileDescriptors()), 0)
        let start = try XCTUnwrap(ChassisFigures.startTimeSeconds())
        let now = Date().timeIntervalSince1970
        XCTAssertLessThanOrEqual(start, now + 1)
        XCTAssertGreaterThan(start, now - 86_400 * 365)
    }

    func testWithoutThePluginsServiceOnlyProcessFigures() {
        let store = StatsStore(maxDigests: 1)
        _ = store.addCollector(ChassisFigures(plugins: nil).collect(into:))
        let names = Set(store.snapshot().map(\.name))
        XCTAssertTrue(names.isSuperset(of: ["process_cpu_seconds", "process_resident_memory_bytes", "process_open_fds",
                                            "process_start_time_seconds", "process_uptime_seconds"]))
        XCTAssertFalse(names.contains("chassis_plugins_loaded"))
    }
}
