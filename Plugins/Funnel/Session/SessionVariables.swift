/// Session variables known to differ from a fresh backend connection's (which logs in with
/// utf8mb4_general_ci and the server's defaults). A client's copy is what it asked for; a
/// connection's copy is what it has. Handing a connection to a client sends the difference.
struct SessionVariables: Equatable, Sendable {
    private(set) var values: [String: String] = [:]

    subscript(name: String) -> String? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// The client's character set from its handshake, unless it is the funnel's own default.
    init(handshakeCollation: UInt8 = 45) {
        guard handshakeCollation != 45, let names = Collations.names(of: handshakeCollation) else { return }
        values["character_set_client"] = names.charset
        values["character_set_connection"] = names.charset
        values["character_set_results"] = names.charset
        values["collation_connection"] = names.collation
    }

    /// One SET statement that turns `current` into `self`, or nil when they already match.
    func statement(toTransform current: SessionVariables) -> String? {
        if values == current.values { return nil }   // the usual case, on every hand-over
        var assignments: [String] = []
        for name in Set(values.keys).union(current.values.keys).sorted() where values[name] != current.values[name] {
            if let value = values[name] {
                assignments.append("\(name) = '\(Self.escape(value))'")
            } else {
                assignments.append("\(name) = DEFAULT")
            }
        }
        return assignments.isEmpty ? nil : "SET SESSION " + assignments.joined(separator: ", ")
    }

    private static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "'": out += "''"
            case "\\": out += "\\\\"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The collations clients commonly announce in their handshake.
enum Collations {
    static func names(of id: UInt8) -> (charset: String, collation: String)? {
        switch id {
        case 8: return ("latin1", "latin1_swedish_ci")
        case 33: return ("utf8mb3", "utf8mb3_general_ci")
        case 45: return ("utf8mb4", "utf8mb4_general_ci")
        case 46: return ("utf8mb4", "utf8mb4_bin")
        case 47: return ("latin1", "latin1_bin")
        case 48: return ("latin1", "latin1_general_ci")
        case 63: return ("binary", "binary")
        case 83: return ("utf8mb3", "utf8mb3_bin")
        case 192: return ("utf8mb3", "utf8mb3_unicode_ci")
        case 224: return ("utf8mb4", "utf8mb4_unicode_ci")
        case 255: return ("utf8mb4", "utf8mb4_general_ci")  // MySQL 8's 0900 default; MariaDB maps it
        default: return nil
        }
    }
}
