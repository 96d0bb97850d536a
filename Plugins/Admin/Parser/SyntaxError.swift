/// A statement the admin dialect does not accept, with where it went wrong.
struct SyntaxError: Error, Equatable {
    /// 1-based character position in the statement.
    var position: Int
    /// The statement from that position on, shortened as MariaDB does in its own message.
    var near: String
    var reason: String

    init(_ reason: String, at offset: Int, in sql: [UInt8]) {
        let clamped = min(max(offset, 0), sql.count)
        self.reason = reason
        position = sql[..<clamped].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
        near = String(decoding: sql[clamped...].prefix(80), as: UTF8.self)
    }

    var message: String {
        "You have an error in your SQL syntax near '\(near)' at position \(position): \(reason)"
    }
}
