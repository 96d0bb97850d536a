import NIOCore

/// A successful command's end (Protocol::OK_Packet), also the 0xFE-headed packet that replaces EOF
/// when CLIENT_DEPRECATE_EOF is negotiated.
public struct OKPacket: MySQLMessage {
    public static let header: UInt8 = 0x00
    public static let eofHeader: UInt8 = 0xFE

    public var affectedRows: UInt64
    public var lastInsertID: UInt64
    public var statusFlags: ServerStatusFlags
    public var warnings: UInt16
    public var info: String
    /// Filled when CLIENT_SESSION_TRACK is on and the status has SERVER_SESSION_STATE_CHANGED.
    public var sessionStateChanges: [SessionStateChange]
    /// True for the 0xFE-headed OK that ends a result set under CLIENT_DEPRECATE_EOF.
    public var isEOFReplacement: Bool

    public init(
        affectedRows: UInt64 = 0,
        lastInsertID: UInt64 = 0,
        statusFlags: ServerStatusFlags = [],
        warnings: UInt16 = 0,
        info: String = "",
        sessionStateChanges: [SessionStateChange] = [],
        isEOFReplacement: Bool = false
    ) {
        self.affectedRows = affectedRows
        self.lastInsertID = lastInsertID
        self.statusFlags = statusFlags
        self.warnings = warnings
        self.info = info
        self.sessionStateChanges = sessionStateChanges
        self.isEOFReplacement = isEOFReplacement
    }

    public init(from payload: inout ByteBuffer, capabilities: CapabilityFlags) throws {
        let header: UInt8 = try payload.require("OK header")
        guard header == Self.header || header == Self.eofHeader else {
            throw MySQLWireError.malformedPacket("OK packet: header 0x\(String(header, radix: 16))")
        }
        isEOFReplacement = header == Self.eofHeader
        affectedRows = try payload.requireLengthEncodedInteger("affected rows")
        lastInsertID = try payload.requireLengthEncodedInteger("last insert id")
        if capabilities.contains(.protocol41) {
            statusFlags = ServerStatusFlags(rawValue: try payload.require("status flags"))
            warnings = try payload.require("warnings")
        } else if capabilities.contains(.transactions) {
            statusFlags = ServerStatusFlags(rawValue: try payload.require("status flags"))
            warnings = 0
        } else {
            statusFlags = []
            warnings = 0
        }
        sessionStateChanges = []
        guard payload.readableBytes > 0 else {
            info = ""
            return
        }
        // Servers length-encode the info even where the documentation says string<EOF>; fall
        // back to the raw remainder for those that do not.
        if capabilities.contains(.sessionTrack) {
            info = try payload.requireLengthEncodedString("info")
            if statusFlags.contains(.sessionStateChanged), payload.readableBytes > 0 {
                var block = try payload.requireLengthEncodedSlice("session state info")
                sessionStateChanges = try SessionStateChange.readAll(from: &block)
            }
        } else {
            info = payload.readLengthEncodedString() ?? payload.readRemainingString()
        }
    }

    public func write(into buffer: inout ByteBuffer, capabilities: CapabilityFlags) {
        buffer.writeInteger(isEOFReplacement ? Self.eofHeader : Self.header)
        buffer.writeLengthEncodedInteger(affectedRows)
        buffer.writeLengthEncodedInteger(lastInsertID)
        if capabilities.contains(.protocol41) {
            buffer.writeInteger(statusFlags.rawValue, endianness: .little)
            buffer.writeInteger(warnings, endianness: .little)
        } else if capabilities.contains(.transactions) {
            buffer.writeInteger(statusFlags.rawValue, endianness: .little)
        }
        let tracksState = capabilities.contains(.sessionTrack) && statusFlags.contains(.sessionStateChanged)
        if !info.isEmpty || tracksState {
            buffer.writeLengthEncodedString(info)
        }
        if tracksState {
            var block = ByteBuffer()
            for change in sessionStateChanges { change.write(into: &block) }
            buffer.writeLengthEncodedBuffer(block)
        }
    }
}
