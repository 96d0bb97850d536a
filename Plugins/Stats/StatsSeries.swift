import Synchronization

/// One label combination of a family. Publishers keep its address for the life of the process,
/// so it is never freed; `add` and `set` are one relaxed atomic, `record` takes this series' own lock.
final class StatsSeries: @unchecked Sendable {
    let kind: StatsKind
    let labelValues: [String]
    private let value = Atomic<Int64>(0)
    /// nil unless a histogram: counters and gauges allocate no buckets.
    private let latency: SpinLock<LatencyRecorder?>
    /// Zero values recorded and not yet in the histogram: the usual backlog wait (a connection
    /// was free) costs one atomic add, and is folded in whenever the histogram is read.
    private let zeros = Atomic<UInt64>(0)
    private let released = Atomic<Bool>(false)

    init(kind: StatsKind, labelValues: [String]) {
        self.kind = kind
        self.labelValues = labelValues
        latency = SpinLock(kind == .histogram ? LatencyRecorder() : nil)
    }

    /// Counters only go up: a negative delta is ignored. Histograms have no value to add to.
    @inline(__always)
    func add(_ delta: Int64) {
        guard kind == .gauge || (kind == .counter && delta >= 0) else { return }
        value.wrappingAdd(delta, ordering: .relaxed)
    }

    @inline(__always)
    func set(_ newValue: Int64) {
        guard kind == .gauge else { return }
        value.store(newValue, ordering: .relaxed)
    }

    @inline(__always)
    func record(_ nanoseconds: UInt64) {
        if nanoseconds == 0 && kind == .histogram {
            zeros.wrappingAdd(1, ordering: .relaxed)
            return
        }
        latency.withLock { $0?.record(nanoseconds) }
    }

    var current: Int64 { value.load(ordering: .relaxed) }

    /// Computed outside the lock from a copy, so a scrape holds up recorders only for the copy.
    var latencySummary: LatencySummary? {
        let copy = latency.withLock { recorder -> LatencyRecorder? in
            let pending = zeros.exchange(0, ordering: .relaxed)
            if pending > 0 { recorder?.record(0, count: pending) }
            return recorder
        }
        return copy?.summary
    }

    /// A released series leaves snapshots; resolving its labels again brings it back, values kept.
    var isReleased: Bool {
        get { released.load(ordering: .relaxed) }
        set { released.store(newValue, ordering: .relaxed) }
    }
}
