import CChassis

/// The option types of chassis.h, with the parsing every source (command line, config) shares.
public enum OptionType: UInt32, Sendable, CustomStringConvertible {
    case string = 1, int = 2, bool = 3, double = 4, list = 5, table = 6

    public var description: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .bool: return "bool"
        case .double: return "double"
        case .list: return "list"
        case .table: return "table"
        }
    }

    /// Returns the canonical text form handed to plugins, or nil when `text` is malformed.
    func normalize(_ text: String) -> String? {
        switch self {
        case .string, .list: return text
        case .int: return Int64(text.trimmingSpaces).map(String.init)
        case .double: return Double(text.trimmingSpaces).map { String($0) }
        case .bool:
            switch text.trimmingSpaces.lowercased() {
            case "1", "true", "yes", "on": return "true"
            case "0", "false", "no", "off": return "false"
            default: return nil
            }
        case .table: return JSONText.isObject(text) ? text : nil
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
