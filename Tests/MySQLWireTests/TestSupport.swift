import MySQLWire
import NIOCore
import XCTest

extension ByteBuffer {
    init(hex: String) {
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            bytes.append(UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)!)
        }
        self.init(bytes: bytes)
    }

    var hexString: String {
        readableBytesView.map { String(format: "%02x", $0) }.joined()
    }
}

struct CapturedExchange {
    let command: String
    let packets: [(UInt8, String)]

    var commandPayload: ByteBuffer { ByteBuffer(hex: command) }
    var mysqlPackets: [MySQLPacket] { packets.map { MySQLPacket(sequenceID: $0.0, payload: ByteBuffer(hex: $0.1)) } }
}

struct CapturedSession {
    let capabilities: UInt64
    let greeting: String
    let handshakeResponse: String
    let login: [(UInt8, String)]
    let localInfileEnd: [(UInt8, String)]
    let exchanges: [String: CapturedExchange]

    var flags: CapabilityFlags { CapabilityFlags(rawValue: capabilities) }

    func payload(_ exchange: String, _ index: Int) -> ByteBuffer {
        ByteBuffer(hex: exchanges[exchange]!.packets[index].1)
    }
}

/// Decodes, re-encodes and decodes again: both decodes agree and the encoding is stable.
func assertRoundTrip<Message: MySQLMessage>(
    _ message: Message, capabilities: CapabilityFlags, file: StaticString = #filePath, line: UInt = #line
) throws {
    let encoded = message.payload(capabilities: capabilities)
    var reading = encoded
    let decoded = try Message(from: &reading, capabilities: capabilities)
    XCTAssertEqual(decoded, message, file: file, line: line)
    XCTAssertEqual(reading.readableBytes, 0, "trailing bytes", file: file, line: line)
    XCTAssertEqual(decoded.payload(capabilities: capabilities), encoded, file: file, line: line)
}

/// Decodes real bytes and checks that encoding gives the same bytes back.
@discardableResult
func assertReencodes<Message: MySQLMessage>(
    _ type: Message.Type, hex: ByteBuffer, capabilities: CapabilityFlags, file: StaticString = #filePath, line: UInt = #line
) throws -> Message {
    let message = try Message(payload: hex, capabilities: capabilities)
    XCTAssertEqual(message.payload(capabilities: capabilities).hexString, hex.hexString, file: file, line: line)
    return message
}

extension CapabilityFlags {
    static let modernClient: CapabilityFlags = [
        .longPassword, .connectWithDB, .protocol41, .secureConnection, .transactions, .multiStatements,
        .multiResults, .psMultiResults, .pluginAuth, .connectAttrs, .pluginAuthLenencClientData, .sessionTrack,
        .deprecateEOF, .localFiles,
    ]
}
