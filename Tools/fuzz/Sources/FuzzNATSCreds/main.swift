import FuzzSupport
import TributaryNATSProtocol
import TributaryWire

// NATS creds, JWT and seed files, and the user JWT claims inside them.
//
// Input: [decoder selector][file contents...]: 0 = creds file, 1 = JWT file, 2 = seed file,
// 3 = user JWT text.

/// The user and account seeds of the test vectors in Tests/TributaryNATSProtocolTests/NATSNKeyTests.swift.
let userSeed = "SUAAJ6EZNWTWHN5JNGYQFDXDAB2WT2XTUY2UQ3O2WII5KEWILOO7R67BBI"
let accountSeed = "SAAJV4QRGKNS7SBOL37JAYDCY4YAQKAZWI76QOKLYQ26BMN7ARMOWVBMLI"

/// A user JWT for the user seed, signed by the account seed, as the unit tests make it.
func makeUserJWT() -> String {
    guard let user = try? NATSNKeyPair(seed: userSeed), let account = try? NATSNKeyPair(seed: accountSeed) else { return "" }
    let header = Base64URL.encode(Array(#"{"typ":"JWT","alg":"ed25519-nkey"}"#.utf8))
    let payload = Base64URL.encode(Array(#"{"sub":"\#(user.publicKey)","iss":"\#(account.publicKey)","name":"u","iat":1700000000,"exp":1900000000,"nats":{"type":"user","version":2}}"#.utf8))
    return header + "." + payload + "." + Base64URL.encode(account.sign(Array((header + "." + payload).utf8)))
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked {
        let exampleJWT = makeUserJWT()
        let exampleSeed = userSeed
        let creds = """
            -----BEGIN NATS USER JWT-----
            \(exampleJWT)
            ------END NATS USER JWT------

            ************************* IMPORTANT *************************
            NKEY Seed printed below can be used to sign and prove identity.
            NKEYs are sensitive and should be treated as secrets.

            -----BEGIN USER NKEY SEED-----
            \(exampleSeed)
            ------END USER NKEY SEED------

            *************************************************************

            """
        return [[0] + Array(creds.utf8), [1] + Array(creds.utf8), [2] + Array(creds.utf8),
                [1] + Array(exampleJWT.utf8), [2] + Array(exampleSeed.utf8), [3] + Array(exampleJWT.utf8)]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(fuzzBytes(data, size))
    let selector = input.byte() % 4
    let bytes = input.rest
    switch selector {
    case 0: _ = try? NATSCredentialsFile.parseCreds(bytes)
    case 1: _ = try? NATSCredentialsFile.parseJWT(bytes)
    case 2: _ = try? NATSCredentialsFile.parseSeed(bytes)
    default: _ = try? NATSUserJWT(parsing: String(decoding: bytes, as: UTF8.self))
    }
    return 0
}
