import Foundation
import CChassis
import Synchronization

/// Services by name, event subscriptions and topics. Called from any plugin thread.
/// Callbacks run outside the lock, so a subscriber may publish or subscribe in turn.
public final class ServiceRegistry: @unchecked Sendable {
    public struct ServiceEntry {
        public let service: UnsafeMutablePointer<chassis_service>
        public let provider: String
        public var name: String { String(cString: service.pointee.name) }
        public var version: UInt32 { service.pointee.version }
    }

    struct Subscription {
        let id: UInt64
        let owner: String
        let pattern: String
        let callback: chassis_event_fn
        let user: UnsafeMutableRawPointer?
    }

    private struct State {
        var services: [String: ServiceEntry] = [:]
        var serviceOrder: [String] = []
        var subscriptions: [Subscription] = []
        var nextSubscription: UInt64 = 1
        var topics: [String: UnsafeMutablePointer<chassis_topic>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    // MARK: services

    public func register(_ service: chassis_service, provider: String) throws {
        guard service.size >= MemoryLayout<chassis_service>.size, let cName = service.name as UnsafePointer<CChar>? else {
            throw ChassisError(.lifecycle, "plugin \(provider): malformed service struct")
        }
        let name = String(cString: cName)
        let copy = UnsafeMutablePointer<chassis_service>.allocate(capacity: 1)
        copy.initialize(to: chassis_service(size: UInt32(MemoryLayout<chassis_service>.size), name: strdup(name).map { UnsafePointer($0) }!,
                                            version: service.version, vtable: service.vtable, instance: service.instance))
        let clash: String? = state.withLock { s in
            if let existing = s.services[name] { return existing.provider }
            s.services[name] = ServiceEntry(service: copy, provider: provider)
            s.serviceOrder.append(name)
            return nil
        }
        if let clash {
            free(UnsafeMutableRawPointer(mutating: copy.pointee.name))
            copy.deallocate()
            throw ChassisError(.dependency, "plugin \(provider): service '\(name)' is already registered by plugin \(clash)")
        }
        publish(name: "chassis.service.registered", source: "chassis",
                detail: "name=\(name) version=\(service.version) provider=\(provider)")
    }

    /// Unregistered entries are kept allocated: a plugin that still holds the pointer reads
    /// stale data instead of freed memory.
    @discardableResult
    public func unregister(_ name: String, provider: String) -> Bool {
        let removed = state.withLock { s -> Bool in
            guard let entry = s.services[name], entry.provider == provider else { return false }
            s.services[name] = nil
            s.serviceOrder.removeAll { $0 == name }
            return true
        }
        if removed {
            publish(name: "chassis.service.unregistered", source: "chassis", detail: "name=\(name) provider=\(provider)")
        }
        return removed
    }

    public func unregisterAll(provider: String) {
        let names = state.withLock { s in s.serviceOrder.filter { s.services[$0]?.provider == provider } }
        for name in names.reversed() { unregister(name, provider: provider) }
    }

    public func lookup(_ name: String, minVersion: UInt32 = 0) -> ServiceEntry? {
        state.withLock { s in
            guard let entry = s.services[name], entry.version >= minVersion else { return nil }
            return entry
        }
    }

    public var services: [ServiceEntry] {
        state.withLock { s in s.serviceOrder.compactMap { s.services[$0] } }
    }

    // MARK: events

    public func subscribe(owner: String, pattern: String, callback: chassis_event_fn, user: UnsafeMutableRawPointer?) -> UInt64 {
        state.withLock { s in
            let id = s.nextSubscription
            s.nextSubscription += 1
            s.subscriptions.append(Subscription(id: id, owner: owner, pattern: pattern, callback: callback, user: user))
            for (topicName, topic) in s.topics where Self.matches(pattern: pattern, name: topicName) {
                topic.pointee.subscribers += 1
            }
            return id
        }
    }

    @discardableResult
    public func unsubscribe(_ id: UInt64, owner: String) -> Bool {
        state.withLock { s in
            guard let index = s.subscriptions.firstIndex(where: { $0.id == id && $0.owner == owner }) else { return false }
            let removed = s.subscriptions.remove(at: index)
            Self.uncount(removed, topics: s.topics)
            return true
        }
    }

    public func unsubscribeAll(owner: String) {
        state.withLock { s in
            let (gone, kept) = (s.subscriptions.filter { $0.owner == owner }, s.subscriptions.filter { $0.owner != owner })
            s.subscriptions = kept
            for subscription in gone { Self.uncount(subscription, topics: s.topics) }
        }
    }

    private static func uncount(_ subscription: Subscription, topics: [String: UnsafeMutablePointer<chassis_topic>]) {
        for (topicName, topic) in topics where matches(pattern: subscription.pattern, name: topicName) {
            topic.pointee.subscribers -= 1
        }
    }

    /// The topic for an event name; created on first use and never freed.
    public func topic(_ name: String) -> UnsafeMutablePointer<chassis_topic> {
        state.withLock { s in
            if let topic = s.topics[name] { return topic }
            let topic = UnsafeMutablePointer<chassis_topic>.allocate(capacity: 1)
            let count = s.subscriptions.filter { Self.matches(pattern: $0.pattern, name: name) }.count
            topic.initialize(to: chassis_topic(size: UInt32(MemoryLayout<chassis_topic>.size), subscribers: UInt32(count),
                                               name: UnsafePointer(strdup(name)!)))
            s.topics[name] = topic
            return topic
        }
    }

    public func publish(_ event: chassis_event, source: String) {
        let name = String(cString: event.name)
        let targets = state.withLock { s in s.subscriptions.filter { Self.matches(pattern: $0.pattern, name: name) } }
        guard !targets.isEmpty else { return }
        source.withCString { cSource in
            var copy = event
            copy.size = UInt32(MemoryLayout<chassis_event>.size)
            copy.source = cSource
            for target in targets { target.callback(&copy, target.user) }
        }
    }

    public func publish(name: String, source: String, detail: String, payload: UnsafeRawPointer? = nil) {
        name.withCString { cName in
            detail.withCString { cDetail in
                publish(chassis_event(size: UInt32(MemoryLayout<chassis_event>.size), name: cName, source: cName,
                                      payload: payload, detail: cDetail), source: source)
            }
        }
    }

    static func matches(pattern: String, name: String) -> Bool {
        if pattern == "*" || pattern == name { return true }
        if pattern.hasSuffix(".*") {
            return name.hasPrefix(pattern.dropLast(1))
        }
        return false
    }
}
