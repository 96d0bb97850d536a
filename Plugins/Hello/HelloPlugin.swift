import CChassis
import CHelloServices
import Foundation
import PluginKit

/// hello: the Swift example plugin. It registers "hello.greeter", and when it starts calls
/// the C plugin's "hello.counter" and publishes a "hello.greeted" event.
final class HelloPlugin: ChassisPlugin {
    static let definition = PluginDefinition(
        name: "hello", version: "1.0.0",
        summary: "Example plugin in Swift: a greeter service, and a call to the C counter.",
        optional: [.init("hello.counter")],
        provides: [.init("hello.greeter")],
        options: [.init("greeting", .string, default: "Hello", help: "The word the greeter greets with.")])

    private let context: PluginContext
    let greeting: String

    private static let greeterTable: UnsafePointer<hello_greeter_service> = {
        let table = UnsafeMutablePointer<hello_greeter_service>.allocate(capacity: 1)
        table.initialize(to: hello_greeter_service(size: UInt32(MemoryLayout<hello_greeter_service>.size), greet: { instance, who, out, size in
            let plugin = Unmanaged<HelloPlugin>.fromOpaque(instance!).takeUnretainedValue()
            let text = "\(plugin.greeting), \(String(cString: who!))!"
            let bytes = Array(text.utf8)
            guard bytes.count < size else { return 1 }
            _ = bytes.withUnsafeBufferPointer { memcpy(out!, $0.baseAddress!, bytes.count) }
            out![bytes.count] = 0
            plugin.context.publish("hello.greeted", detail: "who=\(String(cString: who!))")
            return 0
        }))
        return UnsafePointer(table)
    }()

    init(context: PluginContext) throws {
        self.context = context
        greeting = context.option("greeting") ?? "Hello"
        try context.registerService("hello.greeter", version: 1, vtable: Self.greeterTable,
                                    instance: Unmanaged.passUnretained(self).toOpaque())
    }

    func start() throws {
        guard let counter = context.serviceTable("hello.counter", as: hello_counter_service.self) else {
            context.log(.info, "hello.counter is not loaded; nothing to count")
            return
        }
        let value = counter.table.pointee.increment(counter.instance, 1)
        context.log(.info, "hello.counter is now \(value)")
    }
}

@c(chassis_plugin_entry)
public func chassisPluginEntry(major: UInt32, minor: UInt32) -> UnsafePointer<chassis_plugin_descriptor>? {
    PluginExport.descriptor(for: HelloPlugin.self)
}
