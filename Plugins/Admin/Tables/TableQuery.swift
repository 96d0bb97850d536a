/// Runs the SELECT part of the dialect over a table already read: WHERE, ORDER BY, COUNT(*),
/// LIMIT, then the column list. UPDATE and DELETE use the same WHERE to pick the rows they change.
enum TableQuery {
    static func select(_ query: Select, from table: ResultTable) throws -> ResultTable {
        var rows = try matching(query.conditions, in: table)
        if !query.order.isEmpty {
            let keys = try query.order.map { item -> (Int, Bool) in
                guard let index = table.columnIndex(item.column) else { throw AdminError.unknownColumn(item.column, in: "order clause") }
                return (index, item.descending)
            }
            rows = rows.enumerated().sorted { a, b in
                for (index, descending) in keys where a.element[index] != b.element[index] {
                    return descending ? b.element[index] < a.element[index] : a.element[index] < b.element[index]
                }
                return a.offset < b.offset   // stable: equal keys keep the service's order
            }.map(\.element)
        }
        if query.projection == .count { rows = [[.integer(Int64(rows.count))]] }
        if let limit = query.limit { rows = Array(rows.prefix(limit)) }
        switch query.projection {
        case .all:
            return ResultTable(name: table.name, columns: table.columns, rows: rows)
        case .count:
            return ResultTable(name: table.name, columns: [Column("COUNT(*)", .bigint)], rows: rows)
        case .columns(let names):
            let indices = try names.map { name -> Int in
                guard let index = table.columnIndex(name) else { throw AdminError.unknownColumn(name, in: "field list") }
                return index
            }
            return ResultTable(name: table.name, columns: indices.map { table.columns[$0] },
                               rows: rows.map { row in indices.map { row[$0] } })
        }
    }

    /// The rows that meet every condition (AND).
    static func matching(_ conditions: [Condition], in table: ResultTable) throws -> [[Value]] {
        let tests = try conditions.map { condition -> (Int, Condition) in
            guard let index = table.columnIndex(condition.column) else {
                throw AdminError.unknownColumn(condition.column, in: "where clause")
            }
            try check(condition, against: table.columns[index])
            return (index, condition)
        }
        return table.rows.filter { row in tests.allSatisfy { index, condition in holds(condition, for: row[index]) } }
    }

    /// A number compared with a VARCHAR column (or a string with a number column) is a mistake
    /// worth an error, not a silently empty answer.
    private static func check(_ condition: Condition, against column: Column) throws {
        let value = condition.value
        if value == .null { return }
        if condition.op == .like {
            guard case .text = value else {
                throw AdminError.typeMismatch("LIKE needs a quoted pattern, not \(value.rendered ?? "NULL") (column \(column.name))")
            }
            return
        }
        switch column.kind {
        case .varchar where value.isNumber:
            throw AdminError.typeMismatch("Column '\(column.name)' is VARCHAR: compare it with a 'quoted string', not \(value.rendered!)")
        case .bigint where !value.isNumber, .double where !value.isNumber:
            throw AdminError.typeMismatch("Column '\(column.name)' is \(column.kind.rawValue): compare it with a number, not '\(value.rendered!)'")
        default:
            return
        }
    }

    /// SQL's three-valued logic reduced to what a filter needs: anything compared with NULL is not true.
    static func holds(_ condition: Condition, for cell: Value) -> Bool {
        if cell == .null || condition.value == .null { return false }
        let value = condition.value
        switch condition.op {
        case .like: return LikePattern(value.rendered!).matches(cell.rendered!)
        case .equal: return !(cell < value) && !(value < cell)
        case .notEqual: return cell < value || value < cell
        case .less: return cell < value
        case .lessOrEqual: return !(value < cell)
        case .greater: return value < cell
        case .greaterOrEqual: return !(cell < value)
        }
    }
}
