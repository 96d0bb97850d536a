import Crypto

/// caching_sha2_password (MySQL 8's default): the fast-path scramble and the status bytes the server
/// sends after it in an `AuthMoreData` packet.
public enum CachingSHA2Password {
    public static let pluginName = "caching_sha2_password"

    /// The client asks for the server's RSA public key (sent by the client as a bare byte).
    public static let requestPublicKey: UInt8 = 0x02
    /// The scramble matched the server's cache; an OK packet follows.
    public static let fastAuthSuccess: UInt8 = 0x03
    /// The cache missed: the client must send the password over TLS, or RSA-encrypted.
    public static let performFullAuthentication: UInt8 = 0x04

    /// XOR(SHA256(password), SHA256(SHA256(SHA256(password)) + nonce)). Empty password: empty response.
    public static func scramble(password: String, nonce: [UInt8]) -> [UInt8] {
        guard !password.isEmpty else { return [] }
        let stage1 = sha256(Array(password.utf8))
        let stage2 = sha256(stage1)
        return NativePassword.xor(stage1, sha256(stage2 + nonce.prefix(20)))
    }

    private static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }
}
