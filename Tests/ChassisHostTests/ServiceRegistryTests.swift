import CChassis
@testable import ChassisHost
import XCTest

final class ServiceRegistryTests: XCTestCase {
    private static let table: UInt32 = 4

    private func register(_ r: ServiceRegistry, _ name: String, version: UInt32 = 1, provider: String = "p") throws {
        try withUnsafePointer(to: Self.table) { table in
            try name.withCString {
                try r.register(chassis_service(size: UInt32(MemoryLayout<chassis_service>.size), name: $0, version: version,
                                               vtable: table, instance: nil), provider: provider)
            }
        }
    }

    func testRegisterLookupAndDuplicates() throws {
        let r = ServiceRegistry()
        try register(r, "funnel.pools", version: 2, provider: "funnel")
        XCTAssertEqual(r.lookup("funnel.pools", minVersion: 2)?.provider, "funnel")
        XCTAssertNil(r.lookup("funnel.pools", minVersion: 3))
        XCTAssertThrowsError(try register(r, "funnel.pools", provider: "other")) {
            XCTAssertTrue("\($0)".contains("already registered by plugin funnel"))
        }
        XCTAssertFalse(r.unregister("funnel.pools", provider: "other"), "only the provider may unregister")
        XCTAssertTrue(r.unregister("funnel.pools", provider: "funnel"))
        XCTAssertNil(r.lookup("funnel.pools"))
    }

    func testEventsMatchPatternsAndTopicsCountSubscribers() throws {
        let r = ServiceRegistry()
        final class Seen { var names: [String] = [] }
        let seen = Seen()
        let topic = r.topic("funnel.backend.added")
        XCTAssertEqual(topic.pointee.subscribers, 0)
        let callback: chassis_event_fn = { event, user in
            Unmanaged<Seen>.fromOpaque(user!).takeUnretainedValue().names.append(String(cString: event.pointee.name))
        }
        let user = Unmanaged.passUnretained(seen).toOpaque()
        let prefix = r.subscribe(owner: "stats", pattern: "funnel.backend.*", callback: callback, user: user)
        _ = r.subscribe(owner: "admin", pattern: "funnel.pool.acquire", callback: callback, user: user)
        XCTAssertEqual(topic.pointee.subscribers, 1)
        XCTAssertEqual(r.topic("funnel.pool.acquire").pointee.subscribers, 1)
        r.publish(name: "funnel.backend.added", source: "funnel", detail: "")
        r.publish(name: "funnel.pool.acquire", source: "funnel", detail: "")
        r.publish(name: "funnel.pool.release", source: "funnel", detail: "")
        XCTAssertEqual(seen.names, ["funnel.backend.added", "funnel.pool.acquire"])
        XCTAssertTrue(r.unsubscribe(prefix, owner: "stats"))
        XCTAssertEqual(topic.pointee.subscribers, 0)
        r.unsubscribeAll(owner: "admin")
        XCTAssertEqual(r.topic("funnel.pool.acquire").pointee.subscribers, 0)
        XCTAssertTrue(ServiceRegistry.matches(pattern: "*", name: "x.y"))
        XCTAssertFalse(ServiceRegistry.matches(pattern: "funnel.*", name: "funnelx.y"))
    }
}
