import NIOCore
import NIOPosix

extension ClientBootstrap {
    /// TCP or a Unix-domain socket. ClientBootstrap turns Nagle off by default (every packet is a
    /// whole request or answer), and skips that option on a Unix socket.
    func connect(to address: HostPort) -> EventLoopFuture<Channel> {
        if let path = address.socketPath { return connect(unixDomainSocketPath: path) }
        return connect(host: address.host, port: address.port)
    }
}
