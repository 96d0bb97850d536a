import Foundation

/// One token of an admin statement. `text` is the decoded form (a string without its quotes and
/// escapes, a symbol as written); `offset` and `end` are UTF-8 byte offsets into the statement.
struct Token: Equatable {
    enum Kind: Equatable {
        case word           // a bare word: keyword or name
        case quotedName     // `name`
        case string         // 'text' or "text"
        case number         // 12, 1.5, 2e3
        case variable       // @@name, @@session.name
        case symbol         // ( ) , * ; . - = != <> < <= > >=
        case end
    }

    var kind: Kind
    var text: String
    var offset: Int
    var end: Int

    func isWord(_ keyword: String) -> Bool {
        kind == .word && text.caseInsensitiveCompare(keyword) == .orderedSame
    }

    func isSymbol(_ symbol: String) -> Bool {
        kind == .symbol && text == symbol
    }
}
