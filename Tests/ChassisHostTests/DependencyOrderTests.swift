@testable import ChassisHost
import XCTest

final class DependencyOrderTests: XCTestCase {
    private func dep(_ s: String, _ v: UInt32 = 1) -> PluginManifest.Dependency { .init(service: s, minVersion: v) }

    func testProvidersComeFirstOtherwiseNamedOrder() throws {
        let plugins = [
            PluginInterface(name: "admin", requires: [dep("funnel.pools")]),
            PluginInterface(name: "lua", provides: [dep("scripting")]),
            PluginInterface(name: "funnel", optional: [dep("stats"), dep("scripting")], provides: [dep("funnel.pools")]),
            PluginInterface(name: "stats", provides: [dep("stats")]),
        ]
        let order = try DependencyOrder.sort(plugins).map { plugins[$0].name }
        // Depth first: each plugin right after what it needs, in the order it lists its needs.
        XCTAssertEqual(order, ["stats", "lua", "funnel", "admin"])
    }

    func testOptionalCycleFallsBackToRequiredEdges() throws {
        let plugins = [
            PluginInterface(name: "a", optional: [dep("b")], provides: [dep("a")]),
            PluginInterface(name: "b", optional: [dep("a")], provides: [dep("b")]),
        ]
        XCTAssertEqual(try DependencyOrder.sort(plugins), [0, 1])
    }

    func testErrors() {
        XCTAssertThrowsError(try DependencyOrder.sort([PluginInterface(name: "x", requires: [dep("nope")])])) {
            XCTAssertEqual(($0 as! ChassisError).kind, .dependency)
            XCTAssertTrue("\($0)".contains("plugin x requires service 'nope'"))
        }
        XCTAssertThrowsError(try DependencyOrder.sort([
            PluginInterface(name: "x", requires: [dep("y")], provides: [dep("x")]),
            PluginInterface(name: "y", requires: [dep("z")], provides: [dep("y")]),
            PluginInterface(name: "z", requires: [dep("x")], provides: [dep("z")]),
        ])) { XCTAssertTrue("\($0)".contains("x -> y -> z -> x"), "\($0)") }
        XCTAssertThrowsError(try DependencyOrder.sort([
            PluginInterface(name: "x", provides: [dep("s")]), PluginInterface(name: "y", provides: [dep("s")]),
        ])) { XCTAssertTrue("\($0)".contains("provided by both plugin x and plugin y")) }
        XCTAssertThrowsError(try DependencyOrder.sort([
            PluginInterface(name: "x", provides: [dep("s", 1)]), PluginInterface(name: "y", requires: [dep("s", 3)]),
        ])) { XCTAssertTrue("\($0)".contains("version 3 or later, but plugin x provides version 1")) }
    }
}
