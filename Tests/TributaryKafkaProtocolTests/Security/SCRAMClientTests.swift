import Testing
import TributaryKafkaProtocol

/// SCRAM as a transcript: client-first → server-first → client-final → server-final, against
/// vectors from outside Tributary.
@Suite("SCRAM client")
struct SCRAMClientTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// RFC 7677 §3: the SCRAM-SHA-256 example exchange (user "user", password "pencil").
    @Test func rfc7677SHA256Example() throws {
        var client = try SCRAMClient(mechanism: .sha256, username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        #expect(text(try client.start()) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let final = try client.serverFirstReceived(bytes("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
        #expect(text(final) == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        #expect(!client.isAuthenticated)
        try client.serverFinalReceived(bytes("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
        #expect(client.isAuthenticated)
    }

    /// SCRAM-SHA-512 with fixed nonces and salt, computed by scramp 1.4.17 and checked with
    /// Python's hashlib (Tests/Fixtures/scram/make_scram_vectors.py).
    @Test func sha512VectorFromScramp() throws {
        var client = try SCRAMClient(mechanism: .sha512, username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        #expect(text(try client.start()) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let final = try client.serverFirstReceived(bytes("r=rOprNGfwEbeRWgbNEkqO3rfcNHYJY1ZVvWVs7j,s=S2FmsMKh4/TVxreo,i=4096"))
        #expect(text(final) == "c=biws,r=rOprNGfwEbeRWgbNEkqO3rfcNHYJY1ZVvWVs7j,p=H7s4+0Il0Y1ZOmEiR9Y0aqmROyoIdnZCAox61kbYM0txgeDFlJN8A7V137lLdGBlH7Ax6p2q5a054U/tTM/PqQ==")
        try client.serverFinalReceived(bytes("v=mVIT2gQrrw8HVDhr2e8vheUcAYgZaJz3U7VDKEHT/T/joALfOCOvW3uTVuRoZgDjByiPUTq4QFguzbvKHJwKfQ=="))
        #expect(client.isAuthenticated)
    }

    @Test func userNamesAreEscaped() throws {
        #expect(SCRAMClient.saslName("a=b,c") == "a=3Db=2Cc")
        var client = try SCRAMClient(mechanism: .sha256, username: "ops,team=1", password: "p", clientNonce: "abc")
        #expect(text(try client.start()) == "n,,n=ops=2Cteam=3D1,r=abc")
    }

    @Test func nonceFromRandomBytesIsPrintableWithoutCommas() throws {
        let nonce = SCRAMClient.makeNonce(randomBytes: [0xFB, 0xFF, 0x00, 0x10, 0x2C, 0x2C, 0xFF, 0xFE, 0x01])
        #expect(nonce == "+/8AECws//4B")
        #expect(throws: SASLError.self) { try SCRAMClient(mechanism: .sha256, username: "u", password: "p", clientNonce: "a,b") }
        #expect(throws: SASLError.self) { try SCRAMClient(mechanism: .sha256, username: "", password: "p", clientNonce: "ab") }
    }

    /// A client that sent its first message, ready for the server's.
    private func started(_ mechanism: SCRAMClient.Mechanism = .sha256) throws -> SCRAMClient {
        var client = try SCRAMClient(mechanism: mechanism, username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        _ = try client.start()
        return client
    }

    private func serverFirstFails(_ message: String, _ expected: (SASLError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var client = try started()
        do {
            _ = try client.serverFirstReceived(bytes(message))
            Issue.record("accepted \(message)", sourceLocation: sourceLocation)
        } catch {
            #expect(expected(error), "\(message): \(error)", sourceLocation: sourceLocation)
            #expect(!error.description.contains("pencil"), sourceLocation: sourceLocation)
        }
        // The exchange is over: nothing more is accepted.
        #expect(throws: SASLError.self, sourceLocation: sourceLocation) { try client.serverFinalReceived(bytes("v=AAAA")) }
    }

    @Test func malformedServerFirstMessagesAreTypedErrors() throws {
        let salt = "s=W22ZaJ0SNY7soEsUEjb6gQ=="
        let nonce = "r=rOprNGfwEbeRWgbNEkqOserver"
        func malformed(_ error: SASLError) -> Bool { if case .malformedServerMessage = error { true } else { false } }
        try serverFirstFails("", malformed)
        try serverFirstFails("garbage", malformed)
        try serverFirstFails("\(nonce),\(salt)", malformed)
        try serverFirstFails("\(salt),\(nonce),i=4096", malformed)
        try serverFirstFails("m=ext,\(nonce),\(salt),i=4096", malformed)
        try serverFirstFails("\(nonce),s=not*base64,i=4096", malformed)
        try serverFirstFails("\(nonce),s=,i=4096", malformed)
        try serverFirstFails("\(nonce),\(salt),i=-4096", malformed)
        try serverFirstFails("\(nonce),\(salt),i=4096x", malformed)
        try serverFirstFails("\(nonce),\(salt),i=99999999999999999999", malformed)
        try serverFirstFails("\(nonce),,\(salt),i=4096", malformed)
        try serverFirstFails(String(repeating: "r", count: 5000), malformed)
        var client = try started()
        #expect(throws: SASLError.self) { _ = try client.serverFirstReceived([0xFF, 0xFE, 0x2C]) }
    }

    @Test func aNonceThatDoesNotExtendOursIsRefused() throws {
        let salt = "s=W22ZaJ0SNY7soEsUEjb6gQ=="
        try serverFirstFails("r=someoneElse,\(salt),i=4096") { $0 == .nonceMismatch }
        try serverFirstFails("r=rOprNGfwEbeRWgbNEkqO,\(salt),i=4096") { $0 == .nonceMismatch }    // adds nothing
        try serverFirstFails("r=rOprNGfwEbeRWgbNEkq,\(salt),i=4096") { $0 == .nonceMismatch }     // shorter
    }

    @Test func iterationCountsOutsideTheBoundsAreRefused() throws {
        let prefix = "r=rOprNGfwEbeRWgbNEkqOserver,s=W22ZaJ0SNY7soEsUEjb6gQ=="
        try serverFirstFails("\(prefix),i=4095") { $0 == .iterationCountTooLow(4095, minimum: 4096) }
        try serverFirstFails("\(prefix),i=1") { $0 == .iterationCountTooLow(1, minimum: 4096) }
        try serverFirstFails("\(prefix),i=2147483647") { $0 == .iterationCountTooHigh(2_147_483_647, maximum: SCRAMClient.defaultMaximumIterations) }
        var strict = try SCRAMClient(mechanism: .sha256, username: "u", password: "p", clientNonce: "abc", maximumIterations: 5000)
        _ = try strict.start()
        #expect(throws: SASLError.iterationCountTooHigh(5001, maximum: 5000)) { _ = try strict.serverFirstReceived(Array("r=abcd,s=AAAA,i=5001".utf8)) }
    }

    @Test func aServerErrorAttributeIsTyped() throws {
        try serverFirstFails("e=unknown-user") { $0 == .serverError("unknown-user") }
        var client = try started()
        _ = try client.serverFirstReceived(bytes("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
        #expect(throws: SASLError.serverError("invalid-proof")) { try client.serverFinalReceived(bytes("e=invalid-proof")) }
        #expect(!client.isAuthenticated)
    }

    @Test func aWrongServerSignatureIsRefused() throws {
        for final in ["v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=", "v=AAAA", "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=x"] {
            var client = try started()
            _ = try client.serverFirstReceived(bytes("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
            #expect(throws: SASLError.self) { try client.serverFinalReceived(bytes(final)) }
            #expect(!client.isAuthenticated)
        }
        var client = try started()
        _ = try client.serverFirstReceived(bytes("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
        #expect(throws: SASLError.serverSignatureMismatch) { try client.serverFinalReceived(bytes("v=AAAA")) }
    }

    @Test func messagesOutOfOrderAreErrors() throws {
        var client = try SCRAMClient(mechanism: .sha512, username: "user", password: "pencil", clientNonce: "abc")
        #expect(throws: SASLError.self) { _ = try client.serverFirstReceived(bytes("r=abcd,s=AAAA,i=4096")) }
        _ = try client.start()
        #expect(throws: SASLError.self) { _ = try client.start() }
        #expect(throws: SASLError.self) { try client.serverFinalReceived(bytes("v=AAAA")) }
    }

    @Test func descriptionsHideThePassword() throws {
        var client = try SCRAMClient(mechanism: .sha256, username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        #expect(!"\(client)".contains("pencil"))
        _ = try client.start()
        _ = try client.serverFirstReceived(bytes("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
        #expect(!"\(client)".contains("pencil"))
        #expect(!String(reflecting: client).contains("pencil"))
    }

    @Test func plainCarriesUserAndPasswordBetweenNULs() throws {
        #expect(try SASLPlain.initialResponse(username: "alice", password: "s3cret") == [0] + Array("alice".utf8) + [0] + Array("s3cret".utf8))
        #expect(throws: SASLError.self) { try SASLPlain.initialResponse(username: "al\0ice", password: "x") }
        #expect(throws: SASLError.self) { try SASLPlain.initialResponse(username: "alice", password: "x\0y") }
        #expect(throws: SASLError.self) { try SASLPlain.initialResponse(username: "", password: "x") }
    }
}
