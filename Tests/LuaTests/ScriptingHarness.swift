import CChassis
import Foundation
import LuaCore
import MySQLWire
import NIOCore
import XCTest

/// Drives the scripting service through its C table, as the funnel does.
final class ScriptingHarness: @unchecked Sendable {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/lua")

    let runtime: ScriptingRuntime
    let service = ScriptingService.table.pointee
    let instance: UnsafeMutableRawPointer
    private let lock = NSLock()
    private var lines: [String] = []

    init(script path: String, checkInterval: Double = 1) throws {
        let box = LogBox()
        runtime = try ScriptingRuntime(script: path, checkInterval: checkInterval) { _, message in box.append(message) }
        instance = ScriptingService.instance(runtime)
        box.owner = self
    }

    convenience init(fixture name: String) throws {
        try self.init(script: Self.fixtures.appendingPathComponent(name).path)
    }

    final class LogBox: @unchecked Sendable {
        weak var owner: ScriptingHarness?
        func append(_ line: String) { owner?.append(line) }
    }

    private func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var log: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    func connect(id: UInt32 = 1, user: String? = "app", database: String? = "test") -> ScriptConnection {
        let ctx = "10.0.0.9:50000".withCString { client in
            "127.0.0.1:4040".withCString { proxy in
                withOptionalCString(user) { user in
                    withOptionalCString(database) { database in
                        var info = chassis_script_connection(size: UInt32(MemoryLayout<chassis_script_connection>.size),
                                                             connection_id: id, client_address: client, proxy_address: proxy,
                                                             user: user, database: database, client_capabilities: 0)
                        return service.create(instance, &info)
                    }
                }
            }
        }
        return ScriptConnection(harness: self, ctx: ctx!)
    }
}

func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return s.withCString { body($0) }
}

/// What one hook call returned, copied out of the context.
struct Outcome {
    var action: Int32
    var queries: [(id: Int64, packet: [UInt8], needed: Bool)]
    var packets: [ByteBuffer]
    var backendNdx: Int32
    var backendAddress: String?
    var close: Bool
    var failed: Bool

    var queryTexts: [String] { queries.map { String(decoding: $0.packet.dropFirst(), as: UTF8.self) } }

    var error: ERRPacket? {
        guard packets.count == 1 else { return nil }
        return try? ERRPacket(payload: packets[0], capabilities: .protocol41)
    }

    /// The column names and rows of a text result set in packets.
    var resultSet: (columns: [String], rows: [[String?]])? {
        guard packets.count >= 3, var first = Optional(packets[0]), let count = first.readLengthEncodedInteger(),
              count > 0, count < 0xFB else { return nil }
        let columns = (0..<Int(count)).compactMap { try? ColumnDefinition41(payload: packets[1 + $0], capabilities: .protocol41).name }
        var rows: [[String?]] = []
        for var packet in packets[(Int(count) + 2)..<(packets.count - 1)] {
            let row = try? TextRow(from: &packet, columnCount: Int(count))
            rows.append(row?.values.map { $0.map { String(buffer: $0) } } ?? [])
        }
        return (columns, rows)
    }
}

final class ScriptConnection {
    let harness: ScriptingHarness
    let ctx: OpaquePointer
    var service: chassis_scripting_service { harness.service }

    init(harness: ScriptingHarness, ctx: OpaquePointer) {
        self.harness = harness
        self.ctx = ctx
    }

    deinit { service.destroy(harness.instance, ctx) }

    var hooks: UInt32 { service.hooks_present(harness.instance, ctx) }

    func readQuery(_ sql: String) -> Outcome { command([3] + Array(sql.utf8)) }

    func command(_ payload: [UInt8]) -> Outcome {
        run { result in payload.withUnsafeBufferPointer { service.read_query(harness.instance, ctx, $0.baseAddress!, $0.count, result) } }
    }

    func readAuth(_ payload: ByteBuffer) -> Outcome { withPayload(payload, service.read_auth) }
    func readHandshake(_ payload: ByteBuffer) -> Outcome { withPayload(payload, service.read_handshake) }

    func connectServer() -> Outcome { run { service.connect_server(harness.instance, ctx, $0) } }
    func disconnect() -> Outcome { run { service.disconnect_client(harness.instance, ctx, $0) } }

    /// The response to the query at the head of the queue, as buffered packets.
    func readQueryResult(id: Int64, _ packets: [ByteBuffer], queryTime: UInt64 = 0, responseTime: UInt64 = 0,
                         forwarded: Bool = false) -> Outcome {
        let storage = packets.map { Array($0.readableBytesView) }
        var pointers: [UnsafeMutablePointer<UInt8>] = []
        defer { pointers.forEach { $0.deallocate() } }
        let bytes: [chassis_script_bytes] = storage.map { packet in
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(packet.count, 1))
            p.initialize(from: packet, count: packet.count)
            pointers.append(p)
            return chassis_script_bytes(data: p, length: packet.count)
        }
        return bytes.withUnsafeBufferPointer { list in
            var response = chassis_script_query_result()
            response.size = UInt32(MemoryLayout<chassis_script_query_result>.size)
            response.id = id
            response.packet_count = UInt32(forwarded ? 0 : list.count)
            response.packets = forwarded ? nil : list.baseAddress
            response.forwarded = forwarded ? 1 : 0
            response.query_time_us = queryTime
            response.response_time_us = responseTime
            return run { service.read_query_result(harness.instance, ctx, &response, $0) }
        }
    }

    private func withPayload(_ payload: ByteBuffer,
                             _ fn: (UnsafeMutableRawPointer?, OpaquePointer, UnsafePointer<UInt8>, Int, UnsafeMutablePointer<chassis_script_result>) -> Int32) -> Outcome {
        let bytes = Array(payload.readableBytesView)
        return run { r in bytes.withUnsafeBufferPointer { fn(harness.instance, ctx, $0.baseAddress!, $0.count, r) } }
    }

    private func run(_ call: (UnsafeMutablePointer<chassis_script_result>) -> Int32) -> Outcome {
        var result = chassis_script_result()
        result.size = UInt32(MemoryLayout<chassis_script_result>.size)
        let action = call(&result)
        XCTAssertEqual(action, result.action)
        return Outcome(
            action: result.action,
            queries: (0..<Int(result.query_count)).map { i in
                let q = result.queries![i]
                return (q.id, Array(UnsafeBufferPointer(start: q.packet.data, count: q.packet.length)), q.resultset_is_needed != 0)
            },
            packets: (0..<Int(result.packet_count)).map { i in
                ByteBuffer(bytes: UnsafeBufferPointer(start: result.packets![i].data, count: result.packets![i].length))
            },
            backendNdx: result.backend_ndx,
            backendAddress: result.backend_address.map { String(cString: $0) },
            close: result.connection_close != 0,
            failed: result.script_failed != 0)
    }
}

/// Backend responses for read_query_result, built with MySQLWire.
enum Responses {
    static func resultSet(_ columns: [String], _ rows: [[String?]], status: ServerStatusFlags = .autocommit) -> [ByteBuffer] {
        var count = ByteBuffer()
        count.writeLengthEncodedInteger(UInt64(columns.count))
        var out = [count]
        out += columns.map { ColumnDefinition41(name: $0, type: .varString).payload(capabilities: .protocol41) }
        out.append(EOFPacket(statusFlags: status).payload(capabilities: .protocol41))
        for row in rows {
            var buffer = ByteBuffer()
            TextRow(values: row.map { $0.map { ByteBuffer(string: $0) } }).write(into: &buffer)
            out.append(buffer)
        }
        out.append(EOFPacket(warnings: 0, statusFlags: status).payload(capabilities: .protocol41))
        return out
    }

    static func ok(affected: UInt64 = 0, insertID: UInt64 = 0) -> [ByteBuffer] {
        [OKPacket(affectedRows: affected, lastInsertID: insertID, statusFlags: .autocommit).payload(capabilities: .protocol41)]
    }
}

let sendQuery = Int32(CHASSIS_SCRIPT_SEND_QUERY.rawValue)
let sendResult = Int32(CHASSIS_SCRIPT_SEND_RESULT.rawValue)
let sendInjection = Int32(CHASSIS_SCRIPT_SEND_INJECTION.rawValue)
let ignoreResult = Int32(CHASSIS_SCRIPT_IGNORE_RESULT.rawValue)
let noDecision = Int32(CHASSIS_SCRIPT_NO_DECISION.rawValue)
