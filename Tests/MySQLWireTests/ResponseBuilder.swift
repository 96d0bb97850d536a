import MySQLWire
import NIOCore

/// Builds a response as the server would number it (first packet: sequence id 1).
struct Response {
    let capabilities: CapabilityFlags
    var packets: [MySQLPacket] = []

    init(_ capabilities: CapabilityFlags) { self.capabilities = capabilities }

    var deprecatesEOF: Bool { capabilities.contains(.deprecateEOF) }

    mutating func raw(_ payload: ByteBuffer) {
        for packet in MySQLPacket.split(payload: payload, firstSequenceID: UInt8(truncatingIfNeeded: packets.count + 1)) {
            packets.append(packet)
        }
    }
    mutating func hex(_ hex: String) { raw(ByteBuffer(hex: hex)) }
    mutating func message(_ message: some MySQLMessage) { raw(message.payload(capabilities: capabilities)) }
    mutating func ok(_ status: ServerStatusFlags = .autocommit, affectedRows: UInt64 = 0) {
        message(OKPacket(affectedRows: affectedRows, statusFlags: status))
    }
    mutating func err(_ code: UInt16 = 1064) { message(ERRPacket(errorCode: code, sqlState: "42000", message: "boom")) }
    /// EOF, or the 0xFE OK that replaces it.
    mutating func terminator(_ status: ServerStatusFlags = .autocommit) {
        if deprecatesEOF { message(OKPacket(statusFlags: status, isEOFReplacement: true)) } else { message(EOFPacket(statusFlags: status)) }
    }
    mutating func definitions(_ count: Int) {
        for index in 0..<count { message(ColumnDefinition41(name: "c\(index)", type: .varString)) }
    }
    mutating func resultSet(columns: Int, rows: [ByteBuffer], status: ServerStatusFlags = .autocommit, binary: Bool = false) {
        raw(ByteBuffer(bytes: [UInt8(columns)]))
        definitions(columns)
        if !deprecatesEOF { message(EOFPacket(statusFlags: status)) }
        for row in rows { raw(row) }
        terminator(status)
    }
}

func textRow(_ values: String...) -> ByteBuffer {
    var buffer = ByteBuffer()
    TextRow(values: values.map { ByteBuffer(string: $0) }).write(into: &buffer)
    return buffer
}

extension Response {
    /// The packets as they cross the wire, headers included.
    var wire: ByteBuffer {
        var buffer = ByteBuffer()
        for packet in packets { buffer.writeMySQLPacket(packet) }
        return buffer
    }
}
