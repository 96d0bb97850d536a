import Synchronization

/// A declared metric: a name, a kind, label names, and its series by label values.
final class MetricFamily: @unchecked Sendable {
    let kind: StatsKind
    let name: String
    let help: String
    let labelNames: [String]

    private struct State {
        var byValues: [[String]: StatsSeries] = [:]
        var order: [StatsSeries] = []
    }
    private let state = Mutex(State())

    init(kind: StatsKind, name: String, help: String, labelNames: [String]) {
        self.kind = kind
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    /// The series of these label values (one per label name, in order), created on first use.
    func series(_ labelValues: [String]) -> StatsSeries? {
        guard labelValues.count == labelNames.count else { return nil }
        return state.withLock { s in
            if let existing = s.byValues[labelValues] {
                existing.isReleased = false
                return existing
            }
            let series = StatsSeries(kind: kind, labelValues: labelValues)
            s.byValues[labelValues] = series
            s.order.append(series)
            return series
        }
    }

    func samples() -> [StatsSample] {
        let all = state.withLock { $0.order }
        return all.filter { !$0.isReleased }.map { series in
            let latency = series.latencySummary
            return StatsSample(name: name, help: help, kind: kind, labelNames: labelNames, labelValues: series.labelValues,
                               value: latency.map { Double($0.count) } ?? Double(series.current), latency: latency)
        }
    }
}
