import CChassis
import PluginKit

/// Looks up another plugin's service when a statement needs it, never earlier: a plugin added
/// with LOAD PLUGIN is seen at once, and a missing one becomes an error that says what to load.
struct ServiceAccess {
    let context: PluginContext

    struct Handle<Table> {
        let table: UnsafePointer<Table>
        let instance: UnsafeMutableRawPointer?
        var calls: Table { table.pointee }
    }

    /// The service's table, or an error naming `plugin` for `purpose` ("table backends", "KILL CLIENT").
    func require<Table>(_ service: String, _ type: Table.Type, plugin: String, for purpose: String) throws -> Handle<Table> {
        if let found = context.serviceTable(service, as: type) { return Handle(table: found.table, instance: found.instance) }
        let loaded = (try? HostPlugins(self).names()) ?? []
        if loaded.contains(plugin) {
            throw AdminError.refused("\(purpose) needs service \(service), which the loaded \(plugin) plugin does not provide (an older \(plugin)?)")
        }
        throw AdminError.refused("\(purpose) needs the \(plugin) plugin: add \(plugin) to --plugins (or LOAD PLUGIN \(plugin))")
    }

    /// One of the host's own services, which every chassis registers.
    func host<Table>(_ service: String, _ type: Table.Type) throws -> Handle<Table> {
        guard let found = context.serviceTable(service, as: type) else { throw AdminError.refused("the host does not offer \(service)") }
        return Handle(table: found.table, instance: found.instance)
    }

    /// Runs a service call that reports failure through an error buffer.
    static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var err = [CChar](repeating: 0, count: 1024)
        let rc = err.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        guard rc == CHASSIS_OK else {
            let text = String(cString: err)
            throw AdminError.refused(text.isEmpty ? "refused (error \(rc))" : text)
        }
    }
}

/// Gathers what a C `list(instance, fn, user)` hands its callback, one row per call.
final class RowCollector {
    var rows: [[Value]] = []

    var pointer: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> RowCollector {
        Unmanaged<RowCollector>.fromOpaque(pointer!).takeUnretainedValue()
    }

    /// Runs `list` with this collector and returns the rows it gathered.
    static func collect(_ list: (UnsafeMutableRawPointer) -> Void) -> [[Value]] {
        let collector = RowCollector()
        withExtendedLifetime(collector) { list(collector.pointer) }
        return collector.rows
    }
}

extension Value {
    init(_ s: UnsafePointer<CChar>?) { self = s.map { .text(String(cString: $0)) } ?? .null }
    init<I: BinaryInteger>(_ i: I) { self = .integer(Int64(clamping: i)) }
    /// Microseconds or nanoseconds as milliseconds.
    static func milliseconds<I: BinaryInteger>(_ value: I, per ms: Double) -> Value { .real(Double(value) / ms) }
}
