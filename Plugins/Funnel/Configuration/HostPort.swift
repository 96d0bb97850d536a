/// "host:port", "[v6]:port" or ":port" (all interfaces).
struct HostPort: Hashable, Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(parsing text: String, defaultHost: String = "0.0.0.0", defaultPort: Int = 3306) throws {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
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
        self.host = host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

import Foundation
