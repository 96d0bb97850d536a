/// Why a transaction-pooled client keeps its backend connection for the rest of its session:
/// state that lives on that connection and cannot be moved to another one.
enum PinReason: String, CaseIterable, Sendable {
    case userVariables = "user_variables"
    case temporaryTable = "temporary_table"
    case namedLock = "named_lock"
    case lockTables = "lock_tables"
    case sqlPrepare = "sql_prepare"
    case preparedStatement = "prepared_statement"
    case cursor
    case foundRows = "found_rows"
    case lastInsertID = "last_insert_id"
    case multiStatements = "multi_statements"
    case sessionState = "session_state"       // the server reported a change the funnel cannot track
    case setOption = "set_option"             // COM_SET_OPTION
    case localInfile = "local_infile"
}
