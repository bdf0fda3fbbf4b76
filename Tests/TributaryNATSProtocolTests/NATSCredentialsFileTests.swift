import Testing
@testable import TributaryNATSProtocol
import TributaryWire

/// A user JWT for the user vector, signed by the account vector (the client does not check the
/// signature; the server does).
func makeUserJWT(subject: String = NATSNKeyTests.vectors[0].publicKey, exp: Int64? = nil) throws -> String {
    let header = NATSBase64URL.encode(Array(#"{"typ":"JWT","alg":"ed25519-nkey"}"#.utf8))
    let expiry = exp.map { #","exp":\#($0)"# } ?? ""
    let payload = NATSBase64URL.encode(Array(#"{"sub":"\#(subject)","iss":"\#(NATSNKeyTests.vectors[1].publicKey)","name":"u","iat":1700000000\#(expiry),"nats":{"type":"user","version":2}}"#.utf8))
    let account = try NATSNKeyPair(seed: NATSNKeyTests.vectors[1].seed)
    return header + "." + payload + "." + NATSBase64URL.encode(account.sign(Array((header + "." + payload).utf8)))
}

@Suite("Creds files, JWT files and seed files")
struct NATSCredentialsFileTests {
    static let seed = NATSNKeyTests.vectors[0].seed
    static let publicKey = NATSNKeyTests.vectors[0].publicKey

    static func creds(jwt: String, seed: String = seed, newline: String = "\n") -> String {
        [
            "-----BEGIN NATS USER JWT-----", jwt, "------END NATS USER JWT------", "",
            "************************* IMPORTANT *************************",
            "NKEY Seed printed below can be used to sign and prove identity.", "",
            "-----BEGIN USER NKEY SEED-----", seed, "------END USER NKEY SEED------", "",
        ].joined(separator: newline)
    }

    static func failure(_ text: String, _ parse: ([UInt8]) throws(NATSError) -> Void = { (bytes) throws(NATSError) in _ = try NATSCredentialsFile.parseCreds(bytes) }) -> NATSError? {
        do {
            try parse(Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func credsFileGivesJWTAndUserKey() throws {
        let jwt = try makeUserJWT()
        for newline in ["\n", "\r\n"] {
            let parsed = try NATSCredentialsFile.parseCreds(Array(Self.creds(jwt: jwt, newline: newline).utf8))
            #expect(parsed.jwt == jwt)
            #expect(parsed.keyPair.publicKey == Self.publicKey)
        }
        // Indented lines, trailing spaces and tabs, no final newline.
        let messy = "  -----BEGIN NATS USER JWT-----  \n\t\(jwt)   \n------END NATS USER JWT------\n\n\n -----BEGIN USER NKEY SEED-----\n  \(Self.seed)\t\n------END USER NKEY SEED------"
        #expect(try NATSCredentialsFile.parseCreds(Array(messy.utf8)).keyPair.publicKey == Self.publicKey)
    }

    @Test func malformedCredsFilesSayWhatIsWrong() throws {
        let jwt = try makeUserJWT()
        let good = Self.creds(jwt: jwt)
        let seedBlock = "-----BEGIN USER NKEY SEED-----\n\(Self.seed)\n------END USER NKEY SEED------\n"
        let jwtBlock = "-----BEGIN NATS USER JWT-----\n\(jwt)\n------END NATS USER JWT------\n"
        let cases: [(String, String, String)] = [
            ("empty", "", "not a NATS creds file"),
            ("no blocks", "just some text\n", "not a NATS creds file"),
            ("missing seed", jwtBlock, "no NKEY seed block"),
            ("missing JWT", seedBlock, "no user JWT block"),
            ("bad base32", good.replacingOccurrences(of: Self.seed, with: String(Self.seed.dropLast(2)) + "18"), "base32 alphabet"),
            ("wrong prefix", good.replacingOccurrences(of: Self.seed, with: NATSNKeyTests.vectors[2].seed), "operator seed ('SO…')"),
            ("truncated seed", good.replacingOccurrences(of: Self.seed, with: String(Self.seed.prefix(40))), "58 base32 characters"),
            ("truncated file", String(good.prefix(good.count - 40)), "not closed"),
            ("cut in the JWT", String(good.prefix(60)), "not closed"),
            ("empty block", "-----BEGIN NATS USER JWT-----\n------END NATS USER JWT------\n" + seedBlock, "empty"),
            ("JWT block holds no JWT", good.replacingOccurrences(of: jwt, with: "not-a-jwt"), "does not hold a JWT"),
            ("public key as seed", good.replacingOccurrences(of: Self.seed, with: Self.publicKey), "public key, not a seed"),
        ]
        for (name, text, expected) in cases {
            let error = try #require(Self.failure(text), "\(name) was accepted")
            #expect(error.code == .invalidCredentials, "\(name)")
            #expect(error.message.contains(expected), "\(name): \(error.message)")
            #expect(!error.description.contains(Self.seed.dropLast(4)) && !error.description.contains(jwt.dropLast(4)), "\(name) leaks")
        }
    }

    @Test func jwtFilesMayBeBareOrDecorated() throws {
        let jwt = try makeUserJWT()
        #expect(try NATSCredentialsFile.parseJWT(Array("\(jwt)\n".utf8)) == jwt)
        #expect(try NATSCredentialsFile.parseJWT(Array(Self.creds(jwt: jwt).utf8)) == jwt)
        #expect(Self.failure("no jwt here") { (bytes) throws(NATSError) in _ = try NATSCredentialsFile.parseJWT(bytes) }?.code == .invalidCredentials)
    }

    @Test func seedFilesMayBeBareLinesBlocksOrCredsFiles() throws {
        let jwt = try makeUserJWT()
        for text in ["\(Self.seed)\n", "# my seed\n  \(Self.seed)  \r\n",
                     "-----BEGIN USER NKEY SEED-----\n\(Self.seed)\n------END USER NKEY SEED------\n", Self.creds(jwt: jwt)] {
            #expect(try NATSCredentialsFile.parseSeed(Array(text.utf8)).publicKey == Self.publicKey, "\(text.prefix(12))")
        }
        let none = Self.failure("nothing\n") { (bytes) throws(NATSError) in _ = try NATSCredentialsFile.parseSeed(bytes) }
        #expect(none?.message.contains("no NKEY seed found") == true)
    }

    @Test func userJWTClaims() throws {
        let claims = try NATSUserJWT(parsing: try makeUserJWT(exp: 1_800_000_000))
        #expect(claims.subject == Self.publicKey)
        #expect(claims.issuer == NATSNKeyTests.vectors[1].publicKey)
        #expect(claims.name == "u")
        #expect(claims.expires == 1_800_000_000)
        #expect(claims.issuedAt == 1_700_000_000)
        #expect(claims.expiryNote(now: 1_799_999_999) == nil)
        #expect(claims.expiryNote(now: 1_800_000_042)?.contains("expired 42 s ago") == true)
        #expect(try NATSUserJWT(parsing: try makeUserJWT()).expires == nil)
        // An account's key as subject is no user JWT.
        #expect(throws: NATSError.self) { try NATSUserJWT(parsing: try makeUserJWT(subject: NATSNKeyTests.vectors[1].publicKey)) }
        #expect(throws: NATSError.self) { try NATSUserJWT(parsing: "a.b") }
    }
}

@Suite("Credentials in the handshake and the connection machine")
struct NATSCredentialHandshakeTests {
    typealias Machine = NATSConnectionStateMachine<String, String>

    static func info(_ json: String) throws -> NATSServerInfo {
        try Array(json.utf8).withUnsafeBytes { try NATSServerInfo.decode(json: $0, offset: 0) }
    }

    @Test func connectJSONKeepsSortedMembersWithCredentials() throws {
        var options = NATSConnectOptions()
        options.name = "n"
        options.user = "u"
        options.pass = "p"
        options.authToken = "t"
        options.jwt = "J"
        options.nkey = "UKEY"
        options.sig = "SIG"
        var bytes: [UInt8] = []
        options.encode(into: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("CONNECT {") && text.hasSuffix("}\r\n"))
        var keys: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "\"") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "\"") else { break }
            let key = String(after[..<close])
            keys.append(key)
            // Skip the value (strings only contain simple text here).
            rest = after[after.index(after: close)...]
            if rest.hasPrefix(":\"") {
                rest = rest.dropFirst(2)
                if let end = rest.firstIndex(of: "\"") { rest = rest[rest.index(after: end)...] }
            }
        }
        #expect(keys == keys.sorted(), "\(keys)")
        #expect(keys.contains("jwt") && keys.contains("nkey") && keys.contains("sig"))
        #expect(text.contains(#""jwt":"J""#) && text.contains(#""nkey":"UKEY""#) && text.contains(#""sig":"SIG""#))
        // Printing the options hides every secret.
        let printed = String(describing: options) + String(reflecting: options)
        #expect(!printed.contains("SIG") && !printed.contains(#""pass":"p""#) && !printed.contains(#""auth_token":"t""#))
        #expect(printed.contains(#""jwt":"<redacted>""#) && printed.contains(#""nkey":"UKEY""#))
    }

    @Test func handshakeAsksForCredentialsAfterInfoAndSendsThem() throws {
        var handshake = NATSHandshake(connectOptions: NATSConnectOptions(), requiresCredentials: true)
        let info = try Self.info(#"{"server_id":"S","headers":true,"nonce":"abc-_123"}"#)
        #expect(handshake.received(.info(info)) == .authenticate(nonce: "abc-_123"))
        #expect(handshake.state == .awaitingCredentials(info))
        let pair = try NATSNKeyPair(seed: NATSNKeyTests.vectors[0].seed)
        let response = NATSAuthenticationResponse.signing(nonce: "abc-_123", with: pair)
        guard case .write(let bytes) = handshake.credentialsProvided(response) else {
            Issue.record("expected CONNECT")
            return
        }
        let sent = String(decoding: bytes, as: UTF8.self)
        #expect(sent.contains(#""nkey":"\#(pair.publicKey)""#))
        let signature = try #require(response.signature)
        #expect(sent.contains(#""sig":"\#(signature)""#))
        #expect(!sent.contains("\"jwt\""))
        let raw = try #require(NATSBase64URL.decode(Array(signature.utf8)))
        #expect(pair.verify(raw, for: Array("abc-_123".utf8)), "the nonce's bytes are signed as sent")
        #expect(sent.hasSuffix("PING\r\n"))
        #expect(handshake.received(.pong) == .completed(info))
        // Without a nonce there is nothing to sign, but the driver is still asked (files are read).
        var plain = NATSHandshake(connectOptions: NATSConnectOptions(), requiresCredentials: true)
        #expect(plain.received(.info(try Self.info("{}"))) == .authenticate(nonce: nil))
        #expect(NATSAuthenticationResponse.signing(nonce: nil, with: pair).signature == nil)
        #expect(!String(describing: response).contains(signature))
    }

    static func machine(servers: [String] = ["nats://a:4222", "nats://b:4222"]) -> Machine {
        var configuration = Machine.Configuration()
        configuration.randomize = false
        configuration.credentialsConfigured = true
        configuration.reconnectJitter = .zero
        return Machine(configuration: configuration, servers: servers.map { try! NATSServerAddress(parsing: $0) }, seed: 1)
    }

    static func challenge(_ actions: [Machine.Action]) -> NATSAuthenticationChallenge? {
        for case .authenticate(let challenge) in actions { return challenge }
        return nil
    }

    @Test func machineWaitsForCredentialsAndIgnoresStaleAnswers() throws {
        var m = Self.machine()
        let t0 = MonotonicInstant(nanoseconds: 0)
        _ = m.start(waiter: "connect", now: t0)
        _ = m.streamOpened(now: t0)
        let asked = m.received(.info(try Self.info(#"{"nonce":"n1"}"#)), now: t0)
        let challenge = try #require(Self.challenge(asked), "\(asked)")
        #expect(challenge.nonce == "n1")
        #expect(challenge.server == "a:4222")
        // An answer for another attempt changes nothing.
        #expect(m.credentialsProvided(NATSAuthenticationResponse(nkey: "U"), attempt: challenge.attempt + 7, now: t0).isEmpty)
        let sent = m.credentialsProvided(NATSAuthenticationResponse(nkey: "UKEY", signature: "SIG"), attempt: challenge.attempt, now: t0)
        guard case .writeHandshake(let bytes)? = sent.first else {
            Issue.record("expected CONNECT, got \(sent)")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""sig":"SIG""#))
        // A second answer for the same attempt is ignored too.
        #expect(m.credentialsProvided(NATSAuthenticationResponse(nkey: "UKEY"), attempt: challenge.attempt, now: t0).isEmpty)
    }

    @Test func failedCredentialsMoveToTheNextServer() throws {
        var m = Self.machine()
        let t0 = MonotonicInstant(nanoseconds: 0)
        _ = m.start(waiter: "connect", now: t0)
        _ = m.streamOpened(now: t0)
        let challenge = try #require(Self.challenge(m.received(.info(try Self.info(#"{"nonce":"n1"}"#)), now: t0)))
        let actions = m.credentialsFailed(NATSError(.invalidCredentials, "cannot open the creds file"), attempt: challenge.attempt, now: t0)
        #expect(actions.count == 2)
        guard case .closeStream = actions[0], case .connect(let next, _) = actions[1] else {
            Issue.record("expected closeStream and a connect to the next server, got \(actions)")
            return
        }
        #expect(next.endpoint == "b:4222")
        _ = m.streamOpened(now: t0)
        let second = try #require(Self.challenge(m.received(.info(try Self.info(#"{"nonce":"n2"}"#)), now: t0)))
        #expect(second.attempt != challenge.attempt)
        // The last server fails too: connect fails with the credentials error.
        let final = m.credentialsFailed(NATSError(.invalidCredentials, "cannot open the creds file"), attempt: second.attempt, now: t0)
        let failed = final.compactMap { action -> NATSError? in if case .fail(_, let error) = action { return error } else { return nil } }
        #expect(failed.first?.code == .invalidCredentials)
        #expect(failed.first?.server == "b:4222")
    }

    /// Runs a handshake that sends `response` and is refused with `-ERR text`; returns the error.
    static func refusal(_ response: NATSAuthenticationResponse, _ text: String) throws -> NATSError? {
        var m = machine(servers: ["nats://a:4222"])
        let t0 = MonotonicInstant(nanoseconds: 0)
        _ = m.start(waiter: "connect", now: t0)
        _ = m.streamOpened(now: t0)
        let challenge = try #require(Self.challenge(m.received(.info(try Self.info(#"{"nonce":"n"}"#)), now: t0)))
        _ = m.credentialsProvided(response, attempt: challenge.attempt, now: t0)
        for case .fail(_, let error) in m.received(.err(text), now: t0) { return error }
        return nil
    }

    @Test func refusalsSayWhichCredentialsWereRefused() throws {
        let nkey = try #require(try Self.refusal(NATSAuthenticationResponse(nkey: "UKEY", signature: "S"), "'Authorization Violation'"))
        #expect(nkey.code == .authorizationViolation)
        #expect(nkey.message.contains("rejected the NKEY UKEY"), "\(nkey.message)")
        let jwt = try #require(try Self.refusal(NATSAuthenticationResponse(jwt: "J.W.T", signature: "S"), "'Authorization Violation'"))
        #expect(jwt.code == .authorizationViolation)
        #expect(jwt.message.contains("expired or revoked"), "\(jwt.message)")
        #expect(!jwt.description.contains("J.W.T"))
        let expired = try #require(try Self.refusal(NATSAuthenticationResponse(jwt: "J.W.T", signature: "S", jwtExpiredNote: "the user JWT expired 5 s ago"),
                                                    "'Authorization Violation'"))
        #expect(expired.code == .authenticationExpired)
        #expect(expired.serverText == "'Authorization Violation'")
        #expect(expired.message.contains("expired 5 s ago"))
    }

    @Test func serverErrorsWhileConnectedAreTyped() {
        #expect(NATSError.from(serverError: "'User Authentication Revoked'", server: nil).code == .authenticationRevoked)
        #expect(NATSError.from(serverError: "'User Authentication Expired'", server: nil).code == .authenticationExpired)
        #expect(NATSError.from(serverError: "'Account Authentication Expired'", server: nil).code == .authenticationExpired)
        #expect(NATSError(.authenticationRevoked, "x").isConnectionFatal)
    }
}
