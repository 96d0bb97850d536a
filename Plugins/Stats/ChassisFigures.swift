import CChassis
import Foundation

/// The process and chassis figures the plugin publishes itself, through a collector: they are
/// read at scrape time (getrusage, /proc) and cost nothing in between.
struct ChassisFigures {
    typealias PluginsService = (table: UnsafePointer<chassis_plugins_service>, instance: UnsafeMutableRawPointer?)
    let plugins: PluginsService?

    struct PluginInfo {
        var name: String
        var version: String
        var state: String
    }

    func collect(into sink: StatsStore.Sink) {
        func gauge(_ name: String, _ help: String, _ value: Double?, labels: [(String, String)] = []) {
            guard let value else { return }
            sink.emit(name: name, help: help, kind: .gauge, labelNames: labels.map(\.0), labelValues: labels.map(\.1), value: value)
        }
        sink.emit(name: "process_cpu_seconds", help: "User and system CPU time of the chassis process.", kind: .counter,
                  labelNames: [], labelValues: [], value: Self.cpuSeconds())
        gauge("process_resident_memory_bytes", "Resident memory of the chassis process.", Self.residentBytes())
        gauge("process_open_fds", "Open file descriptors.", Self.openFileDescriptors())
        gauge("process_max_fds", "The open files limit (soft).", Self.maxFileDescriptors())
        let start = Self.startTimeSeconds()
        gauge("process_start_time_seconds", "When the process started, in seconds since the Unix epoch.", start)
        gauge("process_uptime_seconds", "Seconds since the process started.", start.map { Date().timeIntervalSince1970 - $0 })
        guard let plugins else { return }
        let list = Self.plugins(plugins)
        gauge("chassis_plugins_loaded", "Plugins the chassis has loaded.", Double(list.count))
        for p in list {
            gauge("chassis_plugin_info", "One per loaded plugin; the value is always 1.", 1,
                  labels: [("plugin", p.name), ("version", p.version), ("state", p.state)])
        }
    }

    static func plugins(_ service: PluginsService) -> [PluginInfo] {
        final class Collected { var list: [PluginInfo] = [] }
        let collected = Collected()
        service.table.pointee.list(service.instance, { info, user in
            let c = Unmanaged<Collected>.fromOpaque(user!).takeUnretainedValue()
            let i = info.pointee
            c.list.append(PluginInfo(name: String(cString: i.name), version: String(cString: i.version), state: String(cString: i.state)))
        }, Unmanaged.passUnretained(collected).toOpaque())
        return collected.list
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// /proc/self/statm: size resident shared ... in pages.
    static func residentBytes() -> Double? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func openFileDescriptors() -> Double? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map { Double($0.count) }
    }

    static func maxFileDescriptors() -> Double? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return Double(limit.rlim_cur)
    }

    /// Boot time (btime in /proc/stat) plus the process's start in clock ticks after boot
    /// (field 22 of /proc/self/stat, counted after the parenthesised command name).
    static func startTimeSeconds() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"),
              let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let btimeLine = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let btime = Double(btimeLine.dropFirst(6)) else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        return btime + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
