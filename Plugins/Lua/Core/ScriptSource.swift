import Foundation
import Synchronization

/// The script file and its versions. Every state compiles the version it is asked to run; a
/// changed file (mtime or size) becomes a new generation, noticed at most once per interval, so
/// the per-hook cost of reload support is one clock read and one atomic load.
final class ScriptSource: @unchecked Sendable {
    struct Version {
        var generation: UInt64
        var text: [UInt8]?
        /// Why the file could not be read, when text is nil.
        var error: String?
    }

    let path: String
    private let intervalNanoseconds: UInt64
    private let lock = NSLock()
    private var version: Version
    /// What stat(2) said at the last read. The inode is part of it: a file replaced by rename
    /// (how editors and `write(atomically:)` save) within one tick of the file system's clock
    /// and at the same size would otherwise look unchanged.
    private var stamp: (inode: UInt64, seconds: Int, nanoseconds: Int, size: Int64)?
    // The standard library's atomics inline into the caller; ManagedAtomic's storage getter is a
    // call per load, and these are read before every hook call.
    private let generation = Atomic<UInt64>(0)
    private let nextCheck = Atomic<UInt64>(0)

    init(path: String, checkInterval: Double = 1) {
        self.path = path
        intervalNanoseconds = UInt64(max(checkInterval, 0) * 1e9)
        version = Version(generation: 0)
        _ = currentGeneration()
    }

    /// The generation of the file as it is now (re-read when the interval has passed).
    func currentGeneration() -> UInt64 {
        let now = Self.monotonicNanoseconds()
        if now >= nextCheck.load(ordering: .relaxed) { check(now: now) }
        return generation.load(ordering: .acquiring)
    }

    func current() -> Version {
        lock.lock()
        defer { lock.unlock() }
        return version
    }

    private func check(now: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        guard now >= nextCheck.load(ordering: .relaxed) else { return }
        nextCheck.store(now &+ intervalNanoseconds, ordering: .relaxed)
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            if version.text != nil || version.generation == 0 || version.error != reason {
                publish(Version(generation: version.generation + 1, text: nil, error: reason))
                stamp = nil
            }
            return
        }
        let newStamp = (UInt64(info.st_ino), info.st_mtim.tv_sec, info.st_mtim.tv_nsec, Int64(info.st_size))
        if let stamp, stamp == newStamp { return }
        stamp = newStamp
        if let data = FileManager.default.contents(atPath: path) {
            publish(Version(generation: version.generation + 1, text: [UInt8](data)))
        } else {
            publish(Version(generation: version.generation + 1, text: nil, error: "cannot read the file"))
        }
    }

    private func publish(_ new: Version) {
        version = new
        generation.store(new.generation, ordering: .releasing)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
