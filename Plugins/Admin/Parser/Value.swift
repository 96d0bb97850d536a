import Foundation

/// A SQL value: a literal in a statement, or a cell of an admin table.
enum Value: Equatable {
    case text(String)
    case integer(Int64)
    case real(Double)
    case null

    /// The text-protocol form of the value (nil for NULL).
    var rendered: String? {
        switch self {
        case .text(let s): return s
        case .integer(let i): return String(i)
        case .real(let d): return Self.render(d)
        case .null: return nil
        }
    }

    var isNumber: Bool {
        switch self {
        case .integer, .real: return true
        case .text, .null: return false
        }
    }

    var number: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .real(let d): return d
        case .text, .null: return nil
        }
    }

    /// SQL order: NULL first, numbers by value, text by its bytes (what the operator typed is ASCII).
    static func < (left: Value, right: Value) -> Bool {
        switch (left, right) {
        case (.null, .null): return false
        case (.null, _): return true
        case (_, .null): return false
        case (.integer(let a), .integer(let b)): return a < b
        case (.text(let a), .text(let b)): return a < b
        default:
            if let a = left.number, let b = right.number { return a < b }
            return (left.rendered ?? "") < (right.rendered ?? "")
        }
    }

    /// Milliseconds keep microsecond precision; whole numbers print without a fraction.
    static func render(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return String(d) }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        var text = String(format: "%.3f", d)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
