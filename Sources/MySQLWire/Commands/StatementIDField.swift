import NIOCore

/// The statement id that COM_STMT_EXECUTE, _CLOSE, _RESET, _FETCH, _SEND_LONG_DATA and the prepare
/// OK all carry in bytes 1...4. A proxy that maps client-visible ids to pooled backends' ids
/// rewrites it in place instead of re-encoding the packet.
public enum StatementIDField {
    /// The id in a statement command or prepare-OK payload; nil when the payload is too short.
    public static func read(from payload: ByteBuffer) -> UInt32? {
        payload.getInteger(at: payload.readerIndex + 1, endianness: .little, as: UInt32.self)
    }

    /// Replaces the id; false (payload untouched) when the payload is too short.
    @discardableResult
    public static func replace(in payload: inout ByteBuffer, with statementID: UInt32) -> Bool {
        guard read(from: payload) != nil else { return false }
        payload.setInteger(statementID, at: payload.readerIndex + 1, endianness: .little)
        return true
    }
}
