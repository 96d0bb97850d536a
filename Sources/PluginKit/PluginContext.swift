import CChassis
import Foundation

/// A Swift face for the host API, bound to one plugin. Safe to use from any thread.
public final class PluginContext: @unchecked Sendable {
    public enum LogLevel: Int32 { case trace = 0, debug, info, notice, warning, error, critical }

    public struct Event {
        public var name: String
        public var source: String
        public var detail: String
        public var payload: UnsafeRawPointer?
    }

    public struct ServiceInfo {
        public var name: String
        public var version: UInt32
        public var provider: String
    }

    public let api: UnsafePointer<chassis_api>
    public let handle: OpaquePointer
    private let lock = NSLock()
    private var subscriptions: [UInt64: Unmanaged<EventHandler>] = [:]

    init(_ ctx: UnsafeMutablePointer<chassis_context>) {
        api = ctx.pointee.api
        handle = ctx.pointee.`self`
    }

    // MARK: logging and errors

    public func log(_ level: LogLevel, _ message: String) {
        message.withCString { api.pointee.log(handle, level.rawValue, $0) }
    }

    /// Records the reason of the failing callback (the host prints it).
    public func fail(_ message: String) {
        message.withCString { api.pointee.set_error(handle, $0) }
    }

    // MARK: options (declared in the plugin's definition; the host already checked types)

    public func option(_ name: String) -> String? {
        name.withCString { api.pointee.option(handle, $0) }.map { String(cString: $0) }
    }

    public func intOption(_ name: String) -> Int? { option(name).flatMap { Int($0) } }
    public func doubleOption(_ name: String) -> Double? { option(name).flatMap { Double($0) } }
    public func boolOption(_ name: String) -> Bool { option(name) == "true" }
    public func listOption(_ name: String) -> [String] {
        (option(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    // MARK: services

    /// Registers a service; `vtable` must stay valid until it is unregistered.
    public func registerService(_ name: String, version: UInt32, vtable: UnsafeRawPointer, instance: UnsafeMutableRawPointer?) throws {
        let rc = name.withCString { cName in
            var service = chassis_service(size: UInt32(MemoryLayout<chassis_service>.size), name: cName, version: version,
                                          vtable: vtable, instance: instance)
            return api.pointee.register_service(handle, &service)
        }
        guard rc == CHASSIS_OK else { throw PluginError("cannot register service '\(name)' (error \(rc))") }
    }

    public func unregisterService(_ name: String) {
        _ = name.withCString { api.pointee.unregister_service(handle, $0) }
    }

    public func lookupService(_ name: String, minVersion: UInt32 = 1) -> UnsafePointer<chassis_service>? {
        name.withCString { api.pointee.lookup_service(handle, $0, minVersion) }
    }

    /// The service's function table, typed, if it is registered and its table is large enough.
    /// `minimumSize`: for a table that grew, the size of its first release; the caller then reads
    /// the appended functions only when the table's `size` covers them.
    public func serviceTable<Table>(_ name: String, minVersion: UInt32 = 1, as: Table.Type,
                                    minimumSize: Int = MemoryLayout<Table>.size) -> (table: UnsafePointer<Table>, instance: UnsafeMutableRawPointer?)? {
        guard let service = lookupService(name, minVersion: minVersion) else { return nil }
        let table = service.pointee.vtable
        guard table.load(as: UInt32.self) >= minimumSize else { return nil }
        return (table.assumingMemoryBound(to: Table.self), service.pointee.instance)
    }

    public func services() -> [ServiceInfo] {
        final class Collector { var items: [ServiceInfo] = [] }
        let collector = Collector()
        api.pointee.list_services(handle, { service, provider, user in
            let c = Unmanaged<Collector>.fromOpaque(user!).takeUnretainedValue()
            c.items.append(ServiceInfo(name: String(cString: service.pointee.name), version: service.pointee.version,
                                       provider: String(cString: provider)))
        }, Unmanaged.passUnretained(collector).toOpaque())
        return collector.items
    }

    // MARK: events

    final class EventHandler {
        let body: (Event) -> Void
        init(_ body: @escaping (Event) -> Void) { self.body = body }
    }

    /// Subscribes to an exact name, a "prefix.*" or "*". The handler runs on the publisher's thread.
    @discardableResult
    public func subscribe(_ pattern: String, _ body: @escaping (Event) -> Void) -> UInt64 {
        let handler = Unmanaged.passRetained(EventHandler(body))
        let id = pattern.withCString { cPattern in
            api.pointee.subscribe(handle, cPattern, { event, user in
                let handler = Unmanaged<EventHandler>.fromOpaque(user!).takeUnretainedValue()
                let e = event.pointee
                handler.body(Event(name: String(cString: e.name), source: String(cString: e.source),
                                   detail: e.detail.map { String(cString: $0) } ?? "", payload: e.payload))
            }, handler.toOpaque())
        }
        guard id != 0 else { handler.release(); return 0 }
        lock.lock()
        subscriptions[id] = handler
        lock.unlock()
        return id
    }

    public func unsubscribe(_ id: UInt64) {
        _ = api.pointee.unsubscribe(handle, id)
        lock.lock()
        let handler = subscriptions.removeValue(forKey: id)
        lock.unlock()
        handler?.release()
    }

    func releaseSubscriptions() {
        lock.lock()
        let all = subscriptions
        subscriptions = [:]
        lock.unlock()
        for (id, handler) in all {
            _ = api.pointee.unsubscribe(handle, id)
            handler.release()
        }
    }

    public func publish(_ name: String, detail: String = "", payload: UnsafeRawPointer? = nil) {
        name.withCString { cName in
            detail.withCString { cDetail in
                var event = chassis_event(size: UInt32(MemoryLayout<chassis_event>.size), name: cName, source: cName,
                                          payload: payload, detail: cDetail)
                api.pointee.publish(handle, &event)
            }
        }
    }

    /// The topic of an event name: check `pointee.subscribers` before building an event on a hot path.
    public func topic(_ name: String) -> UnsafePointer<chassis_topic>? {
        guard api.pointee.size >= MemoryLayout<chassis_api>.size, let topic = api.pointee.topic else { return nil }
        return name.withCString { topic(handle, $0) }
    }
}
