/// One parsed admin statement. Names of tables and columns are as written; the executor
/// matches them case-insensitively against the catalog.
enum Statement: Equatable {
    /// Only whitespace, comments or a semicolon.
    case empty
    case select(Select)
    /// SELECT without FROM: what client libraries and the CLI ask on connect.
    case selectValues([SelectItem], limit: Int?)
    case showTables
    case showHelp
    case showDatabases
    case insert(Insert)
    case update(Update)
    case delete(Delete)
    case set([SetItem])
    /// SET NAMES / SET CHARACTER SET: accepted, the admin port always speaks UTF-8.
    case setNames
    case killClient(UInt32)
    case pause
    case resume
    case reload
    case loadPlugin(String)
    /// COMMIT and ROLLBACK, which drivers send on their own: nothing to do, changes apply at once.
    case endTransaction
}

struct Select: Equatable {
    enum Projection: Equatable {
        case all                // *
        case columns([String])
        case count              // COUNT(*)
    }

    var projection: Projection
    var table: String
    var conditions: [Condition] = []
    var order: [OrderItem] = []
    var limit: Int?
}

enum SelectItem: Equatable {
    case literal(Value)
    case variable(String)   // @@name, scope included as written
    case function(String)   // DATABASE(), VERSION() ...
}

struct Condition: Equatable {
    enum Operator: String, Equatable {
        case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", like = "LIKE"
    }

    var column: String
    var op: Operator
    var value: Value
}

struct OrderItem: Equatable {
    var column: String
    var descending: Bool
}

struct Insert: Equatable {
    var table: String
    /// nil: the table's insertable columns, in their documented order.
    var columns: [String]?
    var rows: [[Value]]
}

struct Assignment: Equatable {
    var column: String
    var value: Value
}

struct Update: Equatable {
    var table: String
    var assignments: [Assignment]
    var conditions: [Condition]
}

struct Delete: Equatable {
    var table: String
    var conditions: [Condition]
}

struct SetItem: Equatable {
    enum Scope: Equatable { case unspecified, session, global }
    var scope: Scope
    var name: String
    var value: Value
}
