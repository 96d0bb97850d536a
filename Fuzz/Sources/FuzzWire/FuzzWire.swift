import MySQLWire
import NIOCore

/// libFuzzer entry. The first input byte picks capabilities, the command whose response the state
/// machine expects, and row shapes; the rest is fed, as is, to the packet decoder, every message
/// decoder and the state machine. Only crashes count: errors are the expected answer to garbage.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: count)
    guard let selector = bytes.first else { return 0 }
    let input = ByteBuffer(bytes: bytes.dropFirst())
    let capabilities = FuzzInput.capabilities(selector)

    let packets = FuzzInput.packets(input)
    FuzzInput.decodeMessages(input, capabilities: capabilities, selector: selector)
    for packet in packets.prefix(8) {
        FuzzInput.decodeMessages(packet.payload, capabilities: capabilities, selector: selector)
    }
    FuzzInput.runStateMachine(packets, capabilities: capabilities, selector: selector)
    FuzzInput.assemble(packets)
    return 0
}

/// SwiftPM links executables with `main` aliased to `<Target>_main`, which hides libFuzzer's own
/// `main`; this entry hands control to libFuzzer's driver instead.
@_cdecl("FuzzWire_main")
public func fuzzWireMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzWire)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

enum FuzzInput {
    static let commands: [UInt8] = [0x03, 0x17, 0x16, 0x1C, 0x04, 0x09, 0x0E, 0x11, 0x12, 0x1B, 0x01, 0x0A]

    static func capabilities(_ selector: UInt8) -> CapabilityFlags {
        var flags: CapabilityFlags = [.protocol41, .secureConnection, .pluginAuth, .transactions]
        if selector & 0x01 != 0 { flags.insert(.deprecateEOF) }
        if selector & 0x02 != 0 { flags.insert(.sessionTrack) }
        if selector & 0x04 != 0 { flags.formUnion([.mariaDBCacheMetadata, .mariaDBExtendedTypeInfo, .mariaDBProgress]) }
        if selector & 0x08 != 0 { flags.insert(.pluginAuthLenencClientData) }
        return flags
    }

    static func packets(_ input: ByteBuffer) -> [MySQLPacket] {
        var decoder = MySQLPacketDecoder(maximumLogicalPacketSize: 1 << 20)
        var buffer = input
        var packets: [MySQLPacket] = []
        while let packet = try? decoder.decode(buffer: &buffer) {
            packets.append(packet)
        }
        return packets
    }

    static func decodeMessages(_ payload: ByteBuffer, capabilities: CapabilityFlags, selector: UInt8) {
        _ = try? HandshakeV10(payload: payload, capabilities: capabilities)
        _ = try? HandshakeResponse41(payload: payload, capabilities: capabilities)
        _ = try? SSLRequest(payload: payload, capabilities: capabilities)
        _ = try? AuthSwitchRequest(payload: payload, capabilities: capabilities)
        _ = try? AuthMoreData(payload: payload, capabilities: capabilities)
        _ = try? OKPacket(payload: payload, capabilities: capabilities)
        _ = try? ERRPacket(payload: payload, capabilities: capabilities)
        _ = try? EOFPacket(payload: payload, capabilities: capabilities)
        _ = try? LocalInfileRequest(payload: payload, capabilities: capabilities)
        _ = try? ColumnDefinition41(payload: payload, capabilities: capabilities)
        _ = try? ComStmtPrepareOK(payload: payload, capabilities: capabilities)
        var command = payload
        _ = try? MySQLCommand(from: &command, capabilities: capabilities)
        var execute = payload
        _ = try? ComStmtExecute(from: &execute, parameterCount: Int(selector >> 4))
        var text = payload
        _ = try? TextRow(from: &text, columnCount: Int(selector >> 3))
        var binary = payload
        _ = try? BinaryRow(from: &binary, columns: binaryColumns)
        var lenenc = payload
        while lenenc.readLengthEncodedSlice() != nil {}
    }

    /// One column of every wire shape, signed and unsigned.
    static let binaryColumns: [ColumnDefinition41] = [
        ColumnType.tiny, .short, .long, .longlong, .float, .double, .date, .datetime, .time, .year, .newdecimal, .blob, .null,
    ].flatMap { type in
        [ColumnDefinition41(name: "s", type: type), ColumnDefinition41(name: "u", type: type, flags: .unsigned)]
    }

    static func runStateMachine(_ packets: [MySQLPacket], capabilities: CapabilityFlags, selector: UInt8) {
        var machine = CommandResponseStateMachine(capabilities: capabilities)
        var command = Int(selector >> 4) % commands.count
        var sendsClientData = false
        guard (try? machine.commandSent(ByteBuffer(bytes: [commands[command]]))) != nil else { return }
        for packet in packets {
            do {
                if sendsClientData {
                    sendsClientData = try machine.clientPacket(packet) == .forward
                    continue
                }
                switch try machine.backendPacket(packet) {
                case .forward:
                    break
                case .needClientData:
                    sendsClientData = true
                case .forwardAndComplete:
                    command = (command + 1) % commands.count
                    _ = try machine.commandSent(ByteBuffer(bytes: [commands[command]]))
                }
            } catch {
                return
            }
        }
    }

    static func assemble(_ packets: [MySQLPacket]) {
        var assembler = MySQLPacketAssembler(maximumPayloadSize: 1 << 20)
        for packet in packets {
            guard (try? assembler.append(packet)) != nil else { return }
        }
    }
}
