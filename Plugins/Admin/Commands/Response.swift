/// What one statement answers: a result set, an OK, or an ERR after which the session goes on.
enum Response {
    case rows(ResultTable)
    case ok(affectedRows: UInt64)
    case error(AdminError)
}
