import MySQLWire
import PluginKit

/// The admin plugin's options, checked: where to listen and whom to let in.
struct AdminSettings {
    static let options: [PluginDefinition.Option] = [
        .init("address", .string, default: "127.0.0.1:4041",
              help: "Where the admin port listens (host:port). Loopback by default: it can change the running funnel."),
        .init("user", .string, default: "admin", help: "The admin user's name."),
        .init("password", .string,
              help: "The admin user's password (clear text or MariaDB's *HEX hash). Required: there is no default."),
    ]

    var host: String
    var port: Int
    var credentials: Credentials

    struct Credentials: Equatable {
        var user: String
        /// SHA1(SHA1(password)), what mysql_native_password checks against.
        var storedHash: [UInt8]
    }

    init(option: (String) -> String?) throws {
        (host, port) = try Self.parseAddress(option("address") ?? "127.0.0.1:4041")
        credentials = try Self.credentials(option: option)
    }

    static func credentials(option: (String) -> String?) throws -> Credentials {
        let user = option("user") ?? "admin"
        guard !user.isEmpty else { throw PluginError("admin-user must not be empty") }
        guard let password = option("password"), !password.isEmpty else {
            throw PluginError("admin-password must be set (--admin-password or password in the [admin] table): the admin port lets no one in without one")
        }
        if password.hasPrefix("*"), let hash = NativePassword.storedHash(fromHashString: password) {
            return Credentials(user: user, storedHash: hash)
        }
        return Credentials(user: user, storedHash: NativePassword.storedHash(password: password))
    }

    /// "host:port" or "[v6]:port".
    static func parseAddress(_ text: String) throws -> (String, Int) {
        var host = Substring(text)
        var portText: Substring = ""
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[close...].dropFirst()
            guard portText.hasPrefix(":") else { throw PluginError("admin-address '\(text)' is not host:port") }
            portText = portText.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else {
            throw PluginError("admin-address '\(text)' is not host:port")
        }
        return (String(host), port)
    }

    var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
