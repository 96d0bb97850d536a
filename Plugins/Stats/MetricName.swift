/// Prometheus naming rules: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
/// and not reserved (`__` prefix; `quantile` belongs to the exported summaries).
enum MetricName {
    static func isValid(metric name: String) -> Bool {
        guard let first = name.utf8.first, !isDigit(first) else { return false }
        return name.utf8.allSatisfy { isWordByte($0) || $0 == UInt8(ascii: ":") }
    }

    static func isValid(label name: String) -> Bool {
        guard let first = name.utf8.first, !isDigit(first), !name.hasPrefix("__"), name != "quantile" else { return false }
        return name.utf8.allSatisfy(isWordByte)
    }

    /// Collector output has no way to report an error: invalid bytes become `_` instead.
    static func sanitized(metric name: String) -> String {
        var bytes = name.utf8.map { isWordByte($0) || $0 == UInt8(ascii: ":") ? $0 : UInt8(ascii: "_") }
        if bytes.first.map(isDigit) ?? true { bytes.insert(UInt8(ascii: "_"), at: 0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func sanitized(label name: String) -> String {
        let sanitized = sanitized(metric: name).replacingColons()
        return isValid(label: sanitized) ? sanitized : "label_" + sanitized
    }

    /// What a family is called on the wire: counters end in _total, histograms are in seconds.
    static func exported(_ name: String, _ kind: StatsKind) -> String {
        switch kind {
        case .counter: return name.hasSuffix("_total") ? name : name + "_total"
        case .histogram: return name.hasSuffix("_seconds") ? name : name + "_seconds"
        case .gauge: return name
        }
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isWordByte(_ b: UInt8) -> Bool {
        isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == UInt8(ascii: "_")
    }
}

private extension String {
    func replacingColons() -> String { String(decoding: utf8.map { $0 == UInt8(ascii: ":") ? UInt8(ascii: "_") : $0 }, as: UTF8.self) }
}
