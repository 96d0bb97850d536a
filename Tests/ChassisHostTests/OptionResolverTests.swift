@testable import ChassisHost
import XCTest

final class OptionResolverTests: XCTestCase {
    private let funnel = PluginInterface(name: "funnel", options: [
        .init(name: "address", type: .string, defaultValue: ":4040", help: ""),
        .init(name: "max-clients", type: .int, defaultValue: "100", help: ""),
        .init(name: "verbose", type: .bool, defaultValue: "false", help: ""),
        .init(name: "backend-addresses", type: .list, defaultValue: nil, help: ""),
        .init(name: "users", type: .table, defaultValue: nil, help: ""),
    ])

    func testPrecedenceDefaultsConfigCommandLine() throws {
        let config = try TOMLParser.parse("""
        [funnel]
        address = "127.0.0.1:5000"
        max_clients = 7
        backend-addresses = ["a:1", "b:2"]
        [funnel.users.alice]
        password = "pw"
        """)
        let r = try OptionResolver(manifests: [funnel]).resolve(
            arguments: ["--funnel-max-clients", "9", "--funnel-verbose"], config: config)["funnel"]!
        XCTAssertEqual(r["address"], "127.0.0.1:5000")
        XCTAssertEqual(r.entries["address"]?.origin, .config)
        XCTAssertEqual(r["max-clients"], "9")
        XCTAssertEqual(r.entries["max-clients"]?.origin, .commandLine)
        XCTAssertEqual(r["verbose"], "true")
        XCTAssertEqual(r["backend-addresses"], "a:1,b:2")
        XCTAssertEqual(r["users"], #"{"alice":{"password":"pw"}}"#)
    }

    func testRepeatedListOptionAccumulatesAndReplacesConfig() throws {
        let config = try TOMLParser.parse("[funnel]\nbackend-addresses = [\"old:1\"]\n")
        let r = try OptionResolver(manifests: [funnel]).resolve(
            arguments: ["--funnel-backend-addresses=x:1", "--funnel-backend-addresses", "y:2,z:3"], config: config)["funnel"]!
        XCTAssertEqual(r["backend-addresses"], "x:1,y:2,z:3")
    }

    func testBadInput() throws {
        let resolver = try OptionResolver(manifests: [funnel])
        for (args, fragment) in [
            (["--funnel-colour=red"], "unknown option --funnel-colour"),
            (["--funnel-max-clients=lots"], "'lots' is not a valid int"),
            (["--funnel-verbose=maybe"], "'maybe' is not a valid bool"),
            (["--funnel-users={not json"], "is not a valid table"),
            (["--funnel-address"], "needs a value"),
            (["stray"], "unexpected argument 'stray'"),
        ] {
            XCTAssertThrowsError(try resolver.resolve(arguments: args, config: nil), "\(args)") {
                XCTAssertTrue("\($0)".contains(fragment), "\(args): \($0)")
                XCTAssertEqual(($0 as! ChassisError).exitStatus, 2)
            }
        }
        XCTAssertThrowsError(try resolver.resolve(arguments: [], config: try TOMLParser.parse("[funnel]\nmax-clients = \"x\"\n"))) {
            XCTAssertTrue("\($0)".contains("[funnel] max-clients must be a int"), "\($0)")
        }
    }
}
