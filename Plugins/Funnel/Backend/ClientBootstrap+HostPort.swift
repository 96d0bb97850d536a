import NIOCore
import NIOPosix

extension ClientBootstrap {
    /// TCP (with Nagle off: every packet is a whole request or answer) or a Unix-domain socket.
    func connect(to address: HostPort) -> EventLoopFuture<Channel> {
        if let path = address.socketPath { return connect(unixDomainSocketPath: path) }
        return channelOption(.socketOption(.tcp_nodelay), value: 1).connect(host: address.host, port: address.port)
    }
}
