/// What a token is. Trivia (whitespace, comments, the markers of an executable comment) carries
/// no meaning for a statement; everything else does.
public enum SQLTokenKind: UInt8, Sendable {
    case whitespace
    case comment                 // -- text, # text, /* text */
    case executableCommentStart  // "/*!50100" or "/*M!100100": what follows up to "*/" is SQL
    case executableCommentEnd    // the "*/" that closes an executable comment
    case identifier              // a bare word: keyword, name or function
    case quotedIdentifier        // `name`
    case string                  // 'text', "text", N'text'
    case number                  // 12, 1.5, .5e-3
    case hexNumber               // 0x1F, X'1F'
    case bitNumber               // 0b101, b'101'
    case userVariable            // @name, @'name', @`name`
    case systemVariable          // @@name, @@global.name
    case placeholder             // ?
    case leftParen, rightParen, comma, semicolon, dot
    case `operator`              // = <=> := -> ->> and every other punctuation byte
    case unterminated            // a string, quoted name or comment that runs to the end of the input
}

/// One token: its kind and where it lies in the input (byte offsets).
public struct SQLToken: Equatable, Sendable {
    public var kind: SQLTokenKind
    public var start: Int
    public var end: Int

    public init(kind: SQLTokenKind, start: Int, end: Int) {
        self.kind = kind
        self.start = start
        self.end = end
    }

    public var range: Range<Int> { start..<end }

    public var isTrivia: Bool {
        switch kind {
        case .whitespace, .comment, .executableCommentStart, .executableCommentEnd: return true
        default: return false
        }
    }

    /// A literal the digest replaces with `?`.
    var isLiteral: Bool {
        switch kind {
        case .string, .number, .hexNumber, .bitNumber, .placeholder, .unterminated: return true
        default: return false
        }
    }
}
