/// A LIKE pattern: `%` any run of characters, `_` one character, a backslash makes the next
/// character literal. Matching ignores case, as MariaDB's default collation does.
struct LikePattern {
    private enum Element: Equatable {
        case anyRun
        case anyOne
        case literal(Character)
    }

    private let elements: [Element]

    init(_ pattern: String) {
        var elements: [Element] = []
        var escaped = false
        for c in pattern.lowercased() {
            if escaped {
                elements.append(.literal(c))
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "%" {
                if elements.last != .anyRun { elements.append(.anyRun) }
            } else {
                elements.append(c == "_" ? .anyOne : .literal(c))
            }
        }
        if escaped { elements.append(.literal("\\")) }
        self.elements = elements
    }

    /// Greedy with one backtrack point per `%`: linear in practice, never exponential.
    func matches(_ text: String) -> Bool {
        let chars = Array(text.lowercased())
        var p = 0, t = 0
        var star: Int?, starText = 0
        while t < chars.count {
            if p < elements.count, elements[p] == .anyOne || elements[p] == .literal(chars[t]) {
                p += 1
                t += 1
            } else if p < elements.count, elements[p] == .anyRun {
                star = p
                starText = t
                p += 1
            } else if let s = star {
                p = s + 1
                starText += 1
                t = starText
            } else {
                return false
            }
        }
        while p < elements.count, elements[p] == .anyRun { p += 1 }
        return p == elements.count
    }
}
