import FuzzSupport
import TributaryCrypto
@testable import TributaryKafkaProtocol

// SCRAM-SHA-256/512 server messages (RFC 5802) as the Kafka SASL exchange receives them: the
// server-first message, then the server-final message. Neither the client's description nor
// any error may show the password.
//
// Input: [mechanism selector][server-first bytes] 0x00 [server-final bytes].
//
// The client accepts 1 to 16 iterations here instead of 4,096 to 65,536 (an internal
// initializer): each accepted server-first message then costs at most 16 PBKDF2 rounds, so the
// run spends its time in the parsing and checks rather than in the hash (4,096 rounds of the
// portable SHA-512 take about 31 ms under the address sanitizer). The real range is covered by
// the unit tests.

let password = "pencil"
let clientNonce = "rOprNGfwEbeRWgbNEkqO"
let acceptedIterations = 1...16

/// The server-final message a server that knows `password` sends after `serverFirst`.
func expectedServerFinal<H: HashFunction>(_: H.Type, serverFirst: String, nonce: String, salt: [UInt8], iterations: Int) -> String {
    let salted = PBKDF2<H>.derive(password: Array(password.utf8), salt: salt, iterations: iterations, length: H.digestSize)
    let authMessage = "n=user,r=\(clientNonce)," + serverFirst + ",c=biws,r=" + nonce
    let serverKey = HMAC<H>.authenticationCode(key: salted, message: Array("Server Key".utf8))
    return "v=" + SCRAMBase64.encode(HMAC<H>.authenticationCode(key: serverKey, message: Array(authMessage.utf8)))
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked {
        // RFC 7677's SCRAM-SHA-256 example exchange (user "user", password "pencil") with 16
        // iterations instead of 4,096, and its server-final messages for both mechanisms.
        let nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
        let first = "r=\(nonce),s=W22ZaJ0SNY7soEsUEjb6gQ==,i=16"
        let salt = SCRAMBase64.decode("W22ZaJ0SNY7soEsUEjb6gQ==") ?? []
        let final256 = expectedServerFinal(SHA256.self, serverFirst: first, nonce: nonce, salt: salt, iterations: 16)
        let final512 = expectedServerFinal(SHA512.self, serverFirst: first, nonce: nonce, salt: salt, iterations: 16)
        for (mechanism, final) in [(SCRAMClient.Mechanism.sha256, final256), (.sha512, final512)] {
            var client = try? SCRAMClient(mechanism: mechanism, username: "user", password: password, clientNonce: clientNonce,
                                          acceptedIterations: acceptedIterations)
            _ = try? client?.start()
            _ = try? client?.serverFirstReceived(Array(first.utf8))
            try? client?.serverFinalReceived(Array(final.utf8))
            fuzzCheck(client?.isAuthenticated == true, "the \(mechanism) seed exchange does not authenticate")
        }
        return [
            [0] + Array(first.utf8) + [0] + Array(final256.utf8),
            [1] + Array(first.utf8) + [0] + Array(final512.utf8),
            [1] + Array(first.utf8) + [0] + Array("e=invalid-proof".utf8),
            [0] + Array("e=unknown-user".utf8),
            [0] + Array("m=ext,r=rOprNGfwEbeRWgbNEkqOx,s=QSXCR+Q6sek8bf92,i=4096".utf8),
        ]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(fuzzBytes(data, size))
    let mechanism: SCRAMClient.Mechanism = input.byte() & 1 == 0 ? .sha256 : .sha512
    let rest = input.rest
    let separator = rest.firstIndex(of: 0) ?? rest.endIndex
    let serverFirst = Array(rest[..<separator])
    let serverFinal = separator < rest.endIndex ? Array(rest[(separator + 1)...]) : []

    guard var client = try? SCRAMClient(mechanism: mechanism, username: "user", password: password, clientNonce: clientNonce,
                                        acceptedIterations: acceptedIterations) else {
        fuzzCheck(false, "the SCRAM client refused a valid user name and nonce")
        return 0
    }
    _ = try? client.start()
    do {
        _ = try client.serverFirstReceived(serverFirst)
        try client.serverFinalReceived(serverFinal)
        fuzzCheck(client.isAuthenticated, "the exchange completed without an error but the client is not authenticated")
    } catch {
        fuzzCheck(!client.isAuthenticated, "the client is authenticated after \(error)")
        fuzzCheck(!error.description.contains(password), "a SCRAM error shows the password")
    }
    fuzzCheck(!client.description.contains(password), "the SCRAM client's description shows the password")
    return 0
}
