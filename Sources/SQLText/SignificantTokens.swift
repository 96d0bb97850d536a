/// The tokens that carry meaning, trivia skipped. A value type: copying it is a cheap lookahead.
struct SignificantTokens: IteratorProtocol {
    private var tokenizer: SQLTokenizer
    /// Whether trivia (whitespace, comments) preceded the token `next()` returned last.
    private(set) var afterTrivia = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        tokenizer = SQLTokenizer(bytes)
    }

    mutating func next() -> SQLToken? {
        afterTrivia = false
        while let token = tokenizer.next() {
            if !token.isTrivia { return token }
            afterTrivia = true
        }
        return nil
    }

    /// The next token without consuming it.
    func peek() -> SQLToken? {
        var copy = self
        return copy.next()
    }
}
