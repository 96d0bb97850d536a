import ChassisHost
import Dispatch
import Foundation
import Logging

/// Starts the host, then waits in the foreground: SIGTERM/SIGINT stop it, SIGHUP reloads.
struct Runner {
    let settings: Settings

    func run() throws {
        let sink = try settings.logFile.map(LogSink.file) ?? LogSink.standardError
        let level = settings.logLevel
        LoggingSystem.bootstrap { ChassisLogHandler(label: $0, level: level, sink: sink) }
        let logger = Logger(label: "chassis")

        let host = PluginHost(pluginDirectory: settings.pluginDir, logger: logger)
        if settings.listPlugins {
            PluginListing.print(host.loader.scan())
            return
        }
        guard !settings.plugins.isEmpty else {
            throw ChassisError(.usage, "no plugins named; use --plugins NAME[,NAME...] (chassis --list-plugins shows what is in \(settings.pluginDir))")
        }
        raiseOpenFileLimit(logger: logger)
        try host.load(settings.plugins)
        try host.configure(arguments: settings.pluginArguments, configFile: settings.configFile)
        if let pidFile = settings.pidFile {
            guard FileManager.default.createFile(atPath: pidFile, contents: Data("\(getpid())\n".utf8)) else {
                throw ChassisError(.usage, "cannot write pid file \(pidFile)")
            }
        }
        defer { if let pidFile = settings.pidFile { try? FileManager.default.removeItem(atPath: pidFile) } }

        let stopRequested = DispatchSemaphore(value: 0)
        let signals = DispatchQueue(label: "chassis.signals")
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: signals)
            source.setEventHandler {
                if sig == SIGHUP {
                    logger.info("SIGHUP: reloading configuration")
                    host.reload()
                } else {
                    logger.info("signal \(sig): shutting down")
                    stopRequested.signal()
                }
            }
            source.resume()
            sources.append(source)
        }

        try host.start()
        logger.info("started plugins: \(host.plugins.map(\.name).joined(separator: ", "))")
        stopRequested.wait()
        host.shutdown()
        logger.info("stopped")
        _ = sources
    }

    /// Thousands of client sockets need more than the usual soft limit of 1024.
    private func raiseOpenFileLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            logger.debug("open files limit raised to \(limit.rlim_cur)")
        }
    }
}

enum PluginListing {
    static func print(_ scan: [(path: String, result: Result<PluginManifest, ChassisError>)]) {
        var rows: [[String]] = [["NAME", "VERSION", "ABI", "SUMMARY"]]
        for (_, result) in scan {
            if case .success(let m) = result {
                rows.append([m.name, m.version, "\(m.abiMajor).\(m.abiMinor)", m.summary])
            }
        }
        let widths = (0..<3).map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            Swift.print((0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[3])
        }
        let skipped = scan.filter { if case .failure = $0.result { return true } else { return false } }
        if !skipped.isEmpty {
            Swift.print("\n\(skipped.count) other .so file(s) in the folder are not chassis plugins or failed to load (use --log-level debug to see why).")
        }
        for (_, result) in skipped {
            if case .failure(let error) = result { Logger(label: "chassis").debug("\(error)") }
        }
    }
}
