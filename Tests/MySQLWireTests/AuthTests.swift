import MySQLWire
import NIOCore
import XCTest

final class AuthTests: XCTestCase {
    private let nonce: [UInt8] = Array(1...20)

    func testHashStringMatchesMariaDBPassword() {
        // SELECT PASSWORD('pw'), PASSWORD('secret') on MariaDB 10.11.
        XCTAssertEqual(NativePassword.hashString(password: "pw"), "*D821809F681A40A6E379B50D0463EFAE20BDD122")
        XCTAssertEqual(NativePassword.hashString(password: "secret"), "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7")
        XCTAssertEqual(NativePassword.storedHash(fromHashString: "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"), NativePassword.storedHash(password: "secret"))
        XCTAssertEqual(NativePassword.storedHash(fromHashString: "*14e65567abdb5135d0cfd9a70b3032c179a49ee7"), NativePassword.storedHash(password: "secret"))
        for bad in ["", "14E65567ABDB5135D0CFD9A70B3032C179A49EE7", "*14E65567ABDB5135D0CFD9A70B3032C179A49EEZ", "*00"] {
            XCTAssertNil(NativePassword.storedHash(fromHashString: bad), bad)
        }
    }

    func testVerifyRecoversStage1SoAProxyCanLogInAsTheUser() throws {
        let stored = NativePassword.storedHash(password: "secret")
        let response = NativePassword.scramble(password: "secret", nonce: nonce)
        let stage1 = try XCTUnwrap(NativePassword.verify(response: response, nonce: nonce, storedHash: stored))
        let backendNonce: [UInt8] = Array(repeating: 9, count: 20)
        XCTAssertEqual(NativePassword.scramble(stage1: stage1, nonce: backendNonce), NativePassword.scramble(password: "secret", nonce: backendNonce))
        XCTAssertEqual(NativePassword.scramble(password: Array("secret".utf8), nonce: nonce), response)

        XCTAssertNil(NativePassword.verify(response: NativePassword.scramble(password: "wrong", nonce: nonce), nonce: nonce, storedHash: stored))
        XCTAssertNil(NativePassword.verify(response: [], nonce: nonce, storedHash: stored))
        XCTAssertNil(NativePassword.verify(response: [1, 2], nonce: nonce, storedHash: stored))
    }

    func testEmptyPassword() {
        XCTAssertEqual(NativePassword.scramble(password: "", nonce: nonce), [])
        XCTAssertEqual(CachingSHA2Password.scramble(password: "", nonce: nonce), [])
        XCTAssertEqual(NativePassword.verify(response: [], nonce: nonce, storedHash: []), [])
        XCTAssertNil(NativePassword.verify(response: [1], nonce: nonce, storedHash: []))
    }

    func testCachingSHA2FastPathScramble() {
        // Computed independently with Python's hashlib.
        XCTAssertEqual(
            ByteBuffer(bytes: CachingSHA2Password.scramble(password: "secret", nonce: nonce)).hexString,
            "746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9"
        )
        XCTAssertEqual(CachingSHA2Password.fastAuthSuccess, 0x03)
        XCTAssertEqual(CachingSHA2Password.performFullAuthentication, 0x04)
    }

    func testPluginSelection() throws {
        XCTAssertEqual(try AuthenticationPlugin(name: "mysql_native_password"), .mysqlNativePassword)
        XCTAssertEqual(try AuthenticationPlugin(name: "caching_sha2_password").authResponse(password: "secret", nonce: nonce), CachingSHA2Password.scramble(password: "secret", nonce: nonce))
        XCTAssertEqual(AuthenticationPlugin.mysqlClearPassword.authResponse(password: "pw", nonce: nonce), [0x70, 0x77, 0])
        XCTAssertThrowsError(try AuthenticationPlugin(name: "client_ed25519")) {
            XCTAssertEqual($0 as? MySQLWireError, .unsupportedAuthPlugin("client_ed25519"))
        }
        XCTAssertEqual(ERRPacket.unsupportedAuthPlugin("client_ed25519").errorCode, 1251)
    }
}
