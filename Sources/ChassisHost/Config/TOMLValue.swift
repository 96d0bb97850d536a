/// A parsed TOML value. Tables keep their keys in file order so errors and dumps read naturally.
public indirect enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The text an option of a scalar type receives; arrays join with commas (list options).
    var optionText: String {
        switch self {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .float(let d): return String(d)
        case .boolean(let b): return b ? "true" : "false"
        case .array(let items): return items.map(\.optionText).joined(separator: ",")
        case .table: return jsonText
        }
    }

    /// JSON for table options: plugins parse structured settings (users, backends) from it.
    var jsonText: String {
        switch self {
        case .string(let s): return JSONText.quote(s)
        case .integer(let i): return String(i)
        case .float(let d): return d.isFinite ? String(d) : "null"
        case .boolean(let b): return b ? "true" : "false"
        case .array(let items): return "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .table(let t):
            return "{" + t.entries.map { JSONText.quote($0.key) + ":" + $0.value.jsonText }.joined(separator: ",") + "}"
        }
    }
}

public struct TOMLTable: Equatable, Sendable {
    public private(set) var entries: [(key: String, value: TOMLValue)] = []

    public init() {}

    public subscript(key: String) -> TOMLValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    public var keys: [String] { entries.map(\.key) }

    public static func == (a: TOMLTable, b: TOMLTable) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
