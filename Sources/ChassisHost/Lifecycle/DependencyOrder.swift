/// The order plugins initialise in: every provider of a required service before the plugin
/// that requires it. Optional services order their providers first too, unless that would
/// form a cycle (two plugins may optionally use each other); a cycle of required services
/// is an error that names it.
public enum DependencyOrder {
    public static func sort(_ manifests: [PluginInterface]) throws -> [Int] {
        var provider: [String: (index: Int, version: UInt32)] = [:]
        for (i, m) in manifests.enumerated() {
            for p in m.provides {
                if let other = provider[p.service] {
                    throw ChassisError(.dependency, "service '\(p.service)' is provided by both plugin \(manifests[other.index].name) and plugin \(m.name)")
                }
                provider[p.service] = (i, p.minVersion)
            }
        }
        var required: [[Int]] = Array(repeating: [], count: manifests.count)
        var optional: [[Int]] = Array(repeating: [], count: manifests.count)
        for (i, m) in manifests.enumerated() {
            for dep in m.requires {
                guard let p = provider[dep.service] else {
                    throw ChassisError(.dependency, "plugin \(m.name) requires service '\(dep.service)' (version \(dep.minVersion) or later), which no loaded plugin provides")
                }
                guard p.version >= dep.minVersion else {
                    throw ChassisError(.dependency, "plugin \(m.name) requires service '\(dep.service)' version \(dep.minVersion) or later, but plugin \(manifests[p.index].name) provides version \(p.version)")
                }
                if p.index != i { required[i].append(p.index) }
            }
            for dep in m.optional {
                if let p = provider[dep.service], p.version >= dep.minVersion, p.index != i { optional[i].append(p.index) }
            }
        }
        if let cycle = findCycle(required) {
            let names = (cycle + [cycle[0]]).map { manifests[$0].name }
            throw ChassisError(.dependency, "dependency cycle between plugins: \(names.joined(separator: " -> "))")
        }
        let withOptional = zip(required, optional).map { $0 + $1 }
        return topological(findCycle(withOptional) == nil ? withOptional : required)
    }

    /// Depth-first order: dependencies first, otherwise the order the user named the plugins.
    private static func topological(_ edges: [[Int]]) -> [Int] {
        var done = Array(repeating: false, count: edges.count)
        var order: [Int] = []
        func visit(_ n: Int) {
            guard !done[n] else { return }
            done[n] = true
            for d in edges[n] { visit(d) }
            order.append(n)
        }
        for n in edges.indices { visit(n) }
        return order
    }

    private static func findCycle(_ edges: [[Int]]) -> [Int]? {
        enum Mark { case none, active, done }
        var mark = Array(repeating: Mark.none, count: edges.count)
        var stack: [Int] = []
        func visit(_ n: Int) -> [Int]? {
            mark[n] = .active
            stack.append(n)
            for d in edges[n] {
                if mark[d] == .active { return Array(stack[stack.firstIndex(of: d)!...]) }
                if mark[d] == .none, let c = visit(d) { return c }
            }
            stack.removeLast()
            mark[n] = .done
            return nil
        }
        for n in edges.indices where mark[n] == .none {
            if let c = visit(n) { return c }
        }
        return nil
    }
}
