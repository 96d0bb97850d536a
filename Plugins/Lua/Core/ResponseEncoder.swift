import CLuaGlue
import MySQLWire
import NIOCore

/// Turns proxy.response, as the glue read it out of Lua, into the payloads the funnel sends.
enum ResponseEncoder {
    /// MySQL Proxy 0.8 answered OK with SERVER_STATUS_AUTOCOMMIT and declared every column of a
    /// script's result set a 32-byte primary key.
    static let status = ServerStatusFlags.autocommit

    static func payloads(_ response: lg_response, capabilities raw: UInt64) -> [ByteBuffer] {
        let capabilities = raw == 0 ? CapabilityFlags.protocol41 : CapabilityFlags(rawValue: raw)
        switch response.type {
        case 0 where response.has_resultset != 0:
            return resultSet(response, capabilities: capabilities)
        case 0:
            return [OKPacket(affectedRows: response.affected_rows, lastInsertID: response.insert_id, statusFlags: status)
                .payload(capabilities: capabilities)]
        case 250:
            return (0..<Int(response.packet_count)).map { buffer(response.packets![$0]) ?? ByteBuffer() }
        default:
            let sqlState = withUnsafeBytes(of: response.sqlstate) { String(decoding: $0.prefix(5), as: UTF8.self) }
            let message = String(decoding: bytes(response.errmsg), as: UTF8.self)
            return [ERRPacket(errorCode: UInt16(truncatingIfNeeded: response.errcode), sqlState: sqlState, message: message)
                .payload(capabilities: capabilities)]
        }
    }

    private static func resultSet(_ response: lg_response, capabilities: CapabilityFlags) -> [ByteBuffer] {
        let columns = Int(response.field_count)
        var out: [ByteBuffer] = []
        out.reserveCapacity(columns + Int(response.row_count) + 3)
        var count = ByteBuffer()
        count.writeLengthEncodedInteger(UInt64(columns))
        out.append(count)
        for i in 0..<columns {
            let column = ColumnDefinition41(name: String(decoding: bytes(response.field_names![i]), as: UTF8.self),
                                            characterSet: UInt16(CharacterSetID.utf8mb4GeneralCI), columnLength: 32,
                                            type: ColumnType(rawValue: response.field_types![i]), flags: .primaryKey)
            out.append(column.payload(capabilities: capabilities))
        }
        let deprecateEOF = capabilities.contains(.deprecateEOF)
        if !deprecateEOF { out.append(EOFPacket(statusFlags: status).payload(capabilities: capabilities)) }
        for r in 0..<Int(response.row_count) {
            var row = ByteBuffer()
            TextRow(values: (0..<columns).map { buffer(response.cells![r * columns + $0]) }).write(into: &row)
            out.append(row)
        }
        out.append(deprecateEOF
            ? OKPacket(statusFlags: status, isEOFReplacement: true).payload(capabilities: capabilities)
            : EOFPacket(statusFlags: status).payload(capabilities: capabilities))
        return out
    }

    private static func bytes(_ text: lg_text) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.data, count: text.data == nil ? 0 : text.length)
    }

    /// nil is SQL NULL.
    private static func buffer(_ text: lg_text) -> ByteBuffer? {
        text.data == nil ? nil : ByteBuffer(bytes: bytes(text))
    }
}
