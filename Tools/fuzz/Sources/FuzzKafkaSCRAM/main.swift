import FuzzSupport
import TributaryKafkaProtocol

// SCRAM-SHA-256/512 server messages (RFC 5802) as the Kafka SASL exchange receives them: the
// server-first message, then the server-final message. Neither the client's description nor
// any error may show the password.
//
// Input: [mechanism selector][server-first bytes] 0x00 [server-final bytes].

let password = "pencil"
let clientNonce = "rOprNGfwEbeRWgbNEkqO"

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked {
        // RFC 7677's SCRAM-SHA-256 example exchange (user "user", password "pencil").
        let first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        let final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        return [
            [0] + Array(first.utf8) + [0] + Array(final.utf8),
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

    // The lowest allowed maximum keeps PBKDF2 at 4,096 iterations per accepted server-first message.
    guard var client = try? SCRAMClient(mechanism: mechanism, username: "user", password: password, clientNonce: clientNonce,
                                        maximumIterations: SCRAMClient.minimumIterations) else {
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
