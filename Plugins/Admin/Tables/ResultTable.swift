import Foundation

/// A column of an admin table: the three SQL types the admin port answers with.
struct Column: Equatable {
    enum Kind: String, Equatable {
        case varchar = "VARCHAR", bigint = "BIGINT", double = "DOUBLE"
    }

    var name: String
    var kind: Kind

    init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// Rows under named columns: a table as read from a service, or a query's answer.
struct ResultTable: Equatable {
    var name: String
    var columns: [Column]
    var rows: [[Value]]

    /// Column names match case-insensitively, as MariaDB's do.
    func columnIndex(_ name: String) -> Int? {
        columns.firstIndex { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }
}
