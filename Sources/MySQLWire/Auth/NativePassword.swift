import Crypto

/// mysql_native_password: the client proves it knows SHA1(password) without sending it.
///
/// The server stores SHA1(SHA1(password)); the client sends
/// SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))). Knowing the stored hash, a proxy can
/// verify that response and recover SHA1(password), which is enough to log in to a backend as the
/// same user (what ProxySQL does).
public enum NativePassword {
    public static let pluginName = "mysql_native_password"

    /// The client's auth response. An empty password gives an empty response.
    public static func scramble(password: String, nonce: [UInt8]) -> [UInt8] {
        scramble(password: Array(password.utf8), nonce: nonce)
    }

    public static func scramble(password: [UInt8], nonce: [UInt8]) -> [UInt8] {
        guard !password.isEmpty else { return [] }
        return scramble(stage1: sha1(password), nonce: nonce)
    }

    /// The auth response from SHA1(password) alone (the "stage 1" hash `verify` recovers).
    public static func scramble(stage1 sha1OfPassword: [UInt8], nonce: [UInt8]) -> [UInt8] {
        xor(sha1OfPassword, sha1(nonce.prefix(20) + sha1(sha1OfPassword)))
    }

    /// SHA1(SHA1(password)): what the server stores.
    public static func storedHash(password: String) -> [UInt8] {
        sha1(sha1(Array(password.utf8)))
    }

    /// "*" + upper-case hex of the stored hash, as MariaDB's PASSWORD() and mysql.user show it.
    public static func hashString(password: String) -> String {
        "*" + storedHash(password: password).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Parses "*HEX" (41 characters) back into the 20-byte stored hash; nil if malformed.
    public static func storedHash(fromHashString string: String) -> [UInt8]? {
        let characters = Array(string.utf8)
        guard characters.count == 41, characters[0] == UInt8(ascii: "*") else { return nil }
        var hash: [UInt8] = []
        hash.reserveCapacity(20)
        for index in stride(from: 1, to: 41, by: 2) {
            guard let high = hexValue(characters[index]), let low = hexValue(characters[index + 1]) else { return nil }
            hash.append(high << 4 | low)
        }
        return hash
    }

    /// Checks a client's auth response against the stored hash.
    ///
    /// - Returns: SHA1(password) when the response is valid, nil otherwise. An empty stored hash
    ///   stands for an empty password, which only an empty response matches (returning []).
    public static func verify(response: [UInt8], nonce: [UInt8], storedHash: [UInt8]) -> [UInt8]? {
        if storedHash.isEmpty { return response.isEmpty ? [] : nil }
        guard response.count == 20, storedHash.count == 20 else { return nil }
        let stage1 = xor(response, sha1(nonce.prefix(20) + storedHash))
        return sha1(stage1) == storedHash ? stage1 : nil
    }

    static func sha1<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        Array(Insecure.SHA1.hash(data: Array(bytes)))
    }

    static func xor(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        zip(left, right).map { $0 ^ $1 }
    }

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
