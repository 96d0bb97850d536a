import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// GET /metrics (Prometheus text) and GET /stats.json, on one event-loop thread of the plugin's own.
final class MetricsHTTPServer {
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel

    var localAddress: SocketAddress? { channel.localAddress }

    init(host: String, port: Int, store: StatsStore) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(MetricsHandler(store: store))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// "host:port" or "[v6]:port".
    static func parse(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}

/// One response per request, sent when the request has ended.
private final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let store: StatsStore
    private var request: HTTPRequestHead?

    init(store: StatsStore) {
        self.store = store
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let (status, type, body) = StatsEndpoints.response(method: head.method, uri: head.uri, store: store)
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.count))])
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}

/// The routes, apart from the sockets.
enum StatsEndpoints {
    static func response(method: HTTPMethod, uri: String, store: StatsStore) -> (HTTPResponseStatus, String, [UInt8]) {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        switch path {
        case "/metrics", "/stats.json":
            guard method == .GET else { return (.methodNotAllowed, "text/plain; charset=utf-8", Array("GET only\n".utf8)) }
            let samples = store.snapshot(), digests = store.digests.samples()
            if path == "/metrics" {
                return (.ok, PrometheusText.contentType, Array(PrometheusText.render(samples, digests: digests).utf8))
            }
            return (.ok, "application/json", Array(StatsJSON(samples, digests: digests).encoded()))
        default:
            return (.notFound, "text/plain; charset=utf-8", Array("not found: try /metrics or /stats.json\n".utf8))
        }
    }
}
