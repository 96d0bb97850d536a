import Glibc
import Synchronization

/// A value behind a lock for the critical sections every query goes through (one histogram
/// record, one digest count: a few dozen instructions): taking it is one atomic exchange and
/// giving it back one store. Swift's Mutex also reads the thread's id on each lock, which from a
/// plugin is a call for a thread-local (about 20 instructions per lock and unlock). A waiter spins
/// briefly, then yields the CPU, so that a holder the scheduler preempted gets to finish on a
/// machine with few cores. Not for sections that can block or take long.
struct SpinLock<Value>: ~Copyable {
    private let held = Atomic<Bool>(false)
    /// Outside the struct, so that the value's address is stable and borrowing suffices to change it.
    private let value: UnsafeMutablePointer<Value>

    init(_ initial: consuming Value) {
        value = .allocate(capacity: 1)
        value.initialize(to: initial)
    }

    deinit {
        value.deinitialize(count: 1)
        value.deallocate()
    }

    @inline(__always)
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        if held.exchange(true, ordering: .acquiring) { wait() }
        defer { held.store(false, ordering: .releasing) }
        return try body(&value.pointee)
    }

    @inline(never)
    private func wait() {
        var spins = 0
        while true {
            // Read before trying again: spinning on the exchange would bounce the cache line.
            if !held.load(ordering: .relaxed) && !held.exchange(true, ordering: .acquiring) { return }
            spins += 1
            if spins >= 100 {
                sched_yield()
                spins = 0
            }
        }
    }
}
