/// Why a statement failed, as the ERR packet the client sees; the session goes on after it.
/// Codes and SQL states are MariaDB's for the same situation, so client libraries map them
/// to the usual exception classes.
struct AdminError: Error, Equatable {
    var code: UInt16
    var sqlState: String
    var message: String

    static func syntax(_ error: SyntaxError) -> AdminError {
        AdminError(code: 1064, sqlState: "42000", message: error.message)
    }

    static func unknownTable(_ name: String) -> AdminError {
        AdminError(code: 1146, sqlState: "42S02", message: "Table 'admin.\(name)' doesn't exist (SHOW TABLES lists the tables)")
    }

    static func unknownColumn(_ name: String, in clause: String) -> AdminError {
        AdminError(code: 1054, sqlState: "42S22", message: "Unknown column '\(name)' in '\(clause)'")
    }

    static func typeMismatch(_ message: String) -> AdminError {
        AdminError(code: 1366, sqlState: "22007", message: message)
    }

    static func readOnly(_ message: String) -> AdminError {
        AdminError(code: 1036, sqlState: "HY000", message: message)
    }

    /// A change the providing plugin refused, or a table whose plugin is not loaded.
    static func refused(_ message: String) -> AdminError {
        AdminError(code: 1105, sqlState: "HY000", message: message)
    }

    static func unsupported(_ message: String) -> AdminError {
        AdminError(code: 1235, sqlState: "42000", message: message)
    }

    static func unknownClient(_ id: UInt32) -> AdminError {
        AdminError(code: 1094, sqlState: "HY000", message: "Unknown thread id: \(id)")
    }

    static func unknownVariable(_ name: String) -> AdminError {
        AdminError(code: 1193, sqlState: "HY000", message: "Unknown system variable '\(name)'")
    }

    static func duplicate(_ value: String, key: String) -> AdminError {
        AdminError(code: 1062, sqlState: "23000", message: "Duplicate entry '\(value)' for key '\(key)'")
    }

    static func emptyQuery() -> AdminError {
        AdminError(code: 1065, sqlState: "42000", message: "Query was empty")
    }

    static func unknownFunction(_ name: String) -> AdminError {
        AdminError(code: 1305, sqlState: "42000", message: "FUNCTION admin.\(name) does not exist")
    }

    static func columnCountMismatch(row: Int) -> AdminError {
        AdminError(code: 1136, sqlState: "21S01", message: "Column count doesn't match value count at row \(row)")
    }

    static func columnTwice(_ name: String) -> AdminError {
        AdminError(code: 1110, sqlState: "42000", message: "Column '\(name)' specified twice")
    }

    static func missingValue(_ column: String) -> AdminError {
        AdminError(code: 1364, sqlState: "HY000", message: "Field '\(column)' doesn't have a default value")
    }
}
