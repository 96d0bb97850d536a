import MySQLWire
import NIOCore

/// Turns a Response into the packets of a text-protocol answer: a result set (column count,
/// definitions, EOF, rows, EOF), an OK or an ERR. The admin port does not offer
/// CLIENT_DEPRECATE_EOF, so result sets always end with classic EOF packets.
struct ResultSetWriter {
    let capabilities: CapabilityFlags
    let allocator: ByteBufferAllocator

    func packets(for response: Response, firstSequenceID: UInt8) -> [MySQLPacket] {
        var sequenceID = firstSequenceID
        var packets: [MySQLPacket] = []
        func add(_ write: (inout ByteBuffer) -> Void) {
            var payload = allocator.buffer(capacity: 64)
            write(&payload)
            packets.append(MySQLPacket(sequenceID: sequenceID, payload: payload))
            sequenceID &+= 1
        }
        switch response {
        case .ok(let affectedRows):
            add { OKPacket(affectedRows: affectedRows, statusFlags: .autocommit).write(into: &$0, capabilities: capabilities) }
        case .error(let error):
            add { ERRPacket(errorCode: error.code, sqlState: error.sqlState, message: error.message).write(into: &$0, capabilities: capabilities) }
        case .rows(let table):
            add { $0.writeLengthEncodedInteger(UInt64(table.columns.count)) }
            for column in table.columns {
                add { Self.definition(column, table: table.name).write(into: &$0, capabilities: capabilities) }
            }
            add { EOFPacket(statusFlags: .autocommit).write(into: &$0, capabilities: capabilities) }
            for row in table.rows {
                add { buffer in
                    TextRow(values: row.map { value in value.rendered.map { ByteBuffer(string: $0) } }).write(into: &buffer)
                }
            }
            add { EOFPacket(statusFlags: .autocommit).write(into: &$0, capabilities: capabilities) }
        }
        return packets
    }

    /// What MariaDB sends for VARCHAR (as VAR_STRING, utf8mb4), BIGINT and DOUBLE columns.
    static func definition(_ column: Column, table: String) -> ColumnDefinition41 {
        switch column.kind {
        case .varchar:
            return ColumnDefinition41(schema: "admin", table: table, orgTable: table, name: column.name, orgName: column.name,
                                      characterSet: UInt16(CharacterSetID.utf8mb4GeneralCI), columnLength: 4096, type: .varString)
        case .bigint:
            return ColumnDefinition41(schema: "admin", table: table, orgTable: table, name: column.name, orgName: column.name,
                                      columnLength: 20, type: .longlong, flags: [.binary, .number])
        case .double:
            // 31 decimals is NOT_FIXED_DEC: the value carries its own precision.
            return ColumnDefinition41(schema: "admin", table: table, orgTable: table, name: column.name, orgName: column.name,
                                      columnLength: 22, type: .double, flags: [.binary, .number], decimals: 31)
        }
    }
}
