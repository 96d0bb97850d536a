/// The authentication plugins this library can answer for.
///
/// Anything else (client_ed25519, auth_gssapi_client, sha256_password, ...) is refused with
/// `MySQLWireError.unsupportedAuthPlugin`, so the caller can answer `ERRPacket.unsupportedAuthPlugin`.
public enum AuthenticationPlugin: String, Hashable, Sendable, CaseIterable {
    case mysqlNativePassword = "mysql_native_password"
    case cachingSHA2Password = "caching_sha2_password"
    /// Sends the password in clear text (NUL-terminated); only sensible over TLS.
    case mysqlClearPassword = "mysql_clear_password"

    public init(name: String) throws {
        guard let plugin = AuthenticationPlugin(rawValue: name) else {
            throw MySQLWireError.unsupportedAuthPlugin(name)
        }
        self = plugin
    }

    /// The first auth response for `password` given the server's nonce.
    public func authResponse(password: String, nonce: [UInt8]) -> [UInt8] {
        switch self {
        case .mysqlNativePassword: return NativePassword.scramble(password: password, nonce: nonce)
        case .cachingSHA2Password: return CachingSHA2Password.scramble(password: password, nonce: nonce)
        case .mysqlClearPassword: return Array(password.utf8) + [0]
        }
    }
}
