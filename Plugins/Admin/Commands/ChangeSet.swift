import Foundation

/// The column values of one INSERT row or one UPDATE's SET list, checked against the columns
/// the statement may write, with typed access that turns a wrong type into an ERR.
struct ChangeSet {
    private let table: String
    private var values: [String: Value] = [:]

    /// `writable` names what may be written (it may hold inputs that are not table columns, such
    /// as a user's password); any other table column is read-only, anything else unknown.
    init(table: TableDefinition, pairs: [(column: String, value: Value)], writable: [String]) throws {
        self.table = table.name
        for (column, value) in pairs {
            guard let name = writable.first(where: { $0.caseInsensitiveCompare(column) == .orderedSame }) else {
                if table.columns.contains(where: { $0.name.caseInsensitiveCompare(column) == .orderedSame }) {
                    throw AdminError.readOnly("Column '\(column)' of table \(table.name) cannot be set; these can: \(writable.joined(separator: ", "))")
                }
                throw AdminError.unknownColumn(column, in: "field list")
            }
            guard values[name] == nil else { throw AdminError.columnTwice(name) }
            values[name] = value
        }
    }

    /// One change set per VALUES row; without a column list the row fills `writable` in order.
    static func rows(of insert: Insert, table: TableDefinition, writable: [String]) throws -> [ChangeSet] {
        let columns = insert.columns ?? writable
        return try insert.rows.enumerated().map { number, row in
            guard row.count == columns.count else { throw AdminError.columnCountMismatch(row: number + 1) }
            return try ChangeSet(table: table, pairs: Array(zip(columns, row)), writable: writable)
        }
    }

    /// Every row the WHERE clause picks, which an UPDATE or DELETE must have: a change to every
    /// row is never one forgotten clause away.
    static func targets(_ conditions: [Condition], in table: ResultTable, statement: String, example: String) throws -> [[Value]] {
        guard !conditions.isEmpty else {
            throw AdminError.unsupported("\(statement) \(table.name) needs a WHERE clause, such as WHERE \(example)")
        }
        return try TableQuery.matching(conditions, in: table)
    }

    func has(_ column: String) -> Bool { values[column] != nil }

    /// A quoted string; nil when absent or NULL.
    func text(_ column: String) throws -> String? {
        switch values[column] {
        case nil, .null?: return nil
        case .text(let s)?: return s
        case let value?:
            throw AdminError.typeMismatch("Incorrect string value: \(value.rendered!) for column `\(column)` of \(table): quote it")
        }
    }

    /// A whole number in `range`; nil when absent or NULL.
    func integer(_ column: String, in range: ClosedRange<Int64>) throws -> Int64? {
        switch values[column] {
        case nil, .null?: return nil
        case .integer(let i)? where range.contains(i): return i
        case .integer(let i)?:
            throw AdminError.typeMismatch("Out of range value \(i) for column `\(column)` of \(table): \(range.lowerBound) to \(range.upperBound)")
        case let value?:
            throw AdminError.typeMismatch("Incorrect integer value: '\(value.rendered!)' for column `\(column)` of \(table)")
        }
    }

    /// One of `choices` (case-insensitive), as written in `choices`; nil when absent or NULL.
    func choice(_ column: String, _ choices: [String]) throws -> String? {
        guard let text = try text(column) else { return nil }
        guard let choice = choices.first(where: { $0.caseInsensitiveCompare(text) == .orderedSame }) else {
            throw AdminError.typeMismatch("Incorrect value '\(text)' for column `\(column)` of \(table): one of \(choices.map { "'\($0)'" }.joined(separator: ", "))")
        }
        return choice
    }
}
