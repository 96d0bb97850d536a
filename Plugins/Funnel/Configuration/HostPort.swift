/// "host:port", "[v6]:port" or ":port" (all interfaces); where `allowSocket`, also a
/// Unix-domain socket: an absolute path or "unix:" and a path.
struct HostPort: Hashable, Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    /// A Unix-domain socket (host and port then unused): on the server's own machine it costs
    /// both ends less CPU per round trip than TCP over loopback.
    var socketPath: String?

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(socketPath: String) {
        self.host = "localhost"
        self.port = 0
        self.socketPath = socketPath
    }

    init(parsing text: String, defaultHost: String = "0.0.0.0", defaultPort: Int = 3306, allowSocket: Bool = false) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("/") || trimmed.hasPrefix("unix:") {
            guard allowSocket else { throw FunnelConfigurationError("'\(text)': a Unix socket is not allowed here (host:port)") }
            let path = trimmed.hasPrefix("unix:") ? String(trimmed.dropFirst(5)) : trimmed
            // sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
            guard path.hasPrefix("/"), path.utf8.count < 108 else {
                throw FunnelConfigurationError("'\(text)': a Unix socket needs an absolute path of at most 107 bytes")
            }
            self.init(socketPath: path)
            return
        }
        var rest = Substring(trimmed)
        var host = defaultHost
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw FunnelConfigurationError("'\(text)': missing ']'") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
        } else if let colon = rest.lastIndex(of: ":") {
            if colon != rest.startIndex { host = String(rest[..<colon]) }
            rest = rest[colon...]
        } else {
            host = String(rest)
            rest = ""
        }
        var port = defaultPort
        if rest.hasPrefix(":") {
            guard let p = Int(rest.dropFirst()), (1...65535).contains(p) else { throw FunnelConfigurationError("'\(text)': bad port") }
            port = p
        } else if !rest.isEmpty {
            throw FunnelConfigurationError("'\(text)' is not host:port")
        }
        guard !host.isEmpty else { throw FunnelConfigurationError("'\(text)': empty host") }
        self.init(host: host, port: port)
    }

    var description: String {
        if let socketPath { return socketPath }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

import Foundation
