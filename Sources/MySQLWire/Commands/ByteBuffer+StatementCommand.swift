import NIOCore

/// Reads and writes the `0x?? + int<4> statement id` prefix shared by the statement commands.
extension ByteBuffer {
    mutating func readStatementCommand(_ code: CommandCode, _ name: StaticString) throws -> UInt32 {
        try requireHeader(code.rawValue, name)
        return try require("statement id")
    }

    mutating func writeStatementCommand(_ code: CommandCode, statementID: UInt32) {
        writeInteger(code.rawValue)
        writeInteger(statementID, endianness: .little)
    }
}
