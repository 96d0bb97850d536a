/// How the funnel spreads backend-connection acquisitions over the eligible backends.
enum BalanceAlgorithm: String, Sendable, CaseIterable {
    /// Smooth weighted round robin: over any window each backend's share matches its weight,
    /// without bursts to the heaviest one.
    case roundRobin = "round-robin"
    /// Fewest queries in flight per unit of weight: a slowed backend gets less new work.
    case leastOutstanding = "least-outstanding"
    /// Random, in proportion to weight.
    case random
}

enum Balancer {
    /// Orders the candidates: the chosen backend first, the rest as fall-backs (the pool takes
    /// the first that can serve at once). Runs under the registry's lock (round robin's state).
    static func rank(_ candidates: [BackendState], algorithm: BalanceAlgorithm) -> [BackendState] {
        guard candidates.count > 1 else { return candidates }
        switch algorithm {
        case .roundRobin:
            let total = candidates.reduce(0) { $0 + max($1.weight, 0) }
            var best = candidates[0]
            for b in candidates {
                b.currentWeight += max(b.weight, 0)
                if b.currentWeight > best.currentWeight { best = b }
            }
            best.currentWeight -= total
            return [best] + candidates.filter { $0 !== best }
        case .leastOutstanding:
            // Compare inFlight/weight without division: a.inFlight * b.weight < b.inFlight * a.weight.
            // Ties (all idle, the common case at low load) are broken at random, in proportion to weight.
            let scored = candidates.map { ($0, $0.inFlight.load(ordering: .relaxed), max($0.weight, 1), Int.random(in: 0..<1_000_000) / max($0.weight, 1)) }
            return scored.sorted { a, b in
                let left = (a.1 + 1) * b.2, right = (b.1 + 1) * a.2
                return left != right ? left < right : a.3 < b.3
            }.map(\.0)
        case .random:
            let total = candidates.reduce(0) { $0 + max($1.weight, 0) }
            guard total > 0 else { return candidates.shuffled() }
            var roll = Int.random(in: 0..<total)
            for b in candidates {
                roll -= max(b.weight, 0)
                if roll < 0 { return [b] + candidates.filter { $0 !== b } }
            }
            return candidates
        }
    }
}
