import NIOCore

/// NUL-terminated and to-the-end strings. (`readNullTerminatedString`/`writeNullTerminatedString`
/// come with NIOCore.)
extension ByteBuffer {
    /// The bytes before the next NUL, which is consumed too. Nil (reader index unmoved) without a NUL.
    public mutating func readNullTerminatedSlice() -> ByteBuffer? {
        guard let end = readableBytesView.firstIndex(of: 0) else { return nil }
        let slice = readSlice(length: end - readableBytesView.startIndex)
        moveReaderIndex(forwardBy: 1)
        return slice
    }

    /// Reads all remaining bytes as text (MySQL's `string<EOF>`).
    public mutating func readRemainingString() -> String {
        readString(length: readableBytes) ?? ""
    }
}
