import Foundation
import Synchronization
import Testing
import TributaryNATS
import TributaryTestSupport

/// NKEY users and JWT operator mode against a real nats-server 2.15.1, with seeds, JWTs and
/// creds files made at test time by the PyPI packages nkeys and nats-jwt.
///
/// Server behaviour these tests rely on (seen with 2.15.1): an expired or revoked user JWT is
/// refused at connect with a plain 'Authorization Violation' (the reason is only in the server
/// log); a JWT that expires while connected ends the connection with 'User Authentication
/// Expired', and an account update that revokes a connected user with 'User Authentication
/// Revoked'.
@Suite("NKEY and JWT credentials against a real nats-server", .serialized)
struct NATSCredentialsConformanceTests {
    /// Every error text these tests produce; the leak test checks them.
    static let collectedErrors = Mutex<[String]>([])

    static func record(_ error: NATSError) {
        collectedErrors.withLock { $0.append(error.description + " | " + error.message + " | " + (error.serverText ?? "")) }
    }

    static func operatorServer(_ fixtures: NATSCredentialFixtures) async throws -> NATSServerProcess {
        try await NATSServerProcess.withConfig(try fixtures.text("operator.conf"))
    }

    static func options(_ server: NATSServerProcess, _ credentials: NATSCredentials?) -> NATSOptions {
        var options = testOptions(server.url)
        options.credentials = credentials
        return options
    }

    /// Subscribes on one connection, publishes on the other, and checks the message arrives.
    static func exchange(_ a: NATSClient, _ b: NATSClient, subject: String = "creds.check") async throws {
        let sub = try a.subscribe(to: subject)
        try await a.flush()
        try b.publish("hello", to: subject)
        try await b.flush()
        let got = try await collect(sub, count: 1)
        #expect(got.map(\.string) == ["hello"])
    }

    /// Connecting must fail; returns the error.
    static func connectFailure(_ options: NATSOptions) async -> NATSError? {
        do {
            let client = try await NATSClient.connect(options)
            await client.close()
            Issue.record("connected with credentials that should have been refused: \(String(describing: options.credentials))")
            return nil
        } catch {
            record(error)
            return error
        }
    }

    // MARK: - NKEY users

    @Test func nkeyUserConnectsWithSeedFileSeedStringAndSigningCallback() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let server = try await NATSServerProcess.withConfig(try fixtures.text("nkey-users.conf"))
        defer { server.stop() }

        let fromFile = try await NATSClient.connect(Self.options(server, .nkeySeedFile(fixtures.path("nkey-user.seed"))))
        let seed = try fixtures.text("nkey-user.seed").trimmingCharacters(in: .whitespacesAndNewlines)
        let fromString = try await NATSClient.connect(Self.options(server, .nkeySeed(seed)))
        try await Self.exchange(fromFile, fromString)

        // A key held elsewhere: only the public key and a signing callback are configured.
        let vault = try NATSNKeyPair(seed: seed)
        let calls = Mutex(0)
        let viaCallback = try await NATSClient.connect(Self.options(server, .nkey(publicKey: vault.publicKey) { nonce in
            calls.withLock { $0 += 1 }
            return vault.sign(nonce)
        }))
        try await Self.exchange(viaCallback, fromFile, subject: "creds.callback")
        #expect(calls.withLock { $0 } == 1)
        #expect(vault.publicKey == fixtures.users["nkey-user"])

        // Without credentials the server refuses.
        let none = await Self.connectFailure(Self.options(server, nil))
        #expect(none?.code == .authorizationViolation)
        for client in [fromFile, fromString, viaCallback] { await client.close() }
    }

    @Test func wrongSeedIsRefusedWithATypedError() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let server = try await NATSServerProcess.withConfig(try fixtures.text("nkey-users.conf"))
        defer { server.stop() }
        let error = await Self.connectFailure(Self.options(server, .nkeySeedFile(fixtures.path("nkey-other.seed"))))
        #expect(error?.code == .authorizationViolation, "\(String(describing: error))")
        #expect(error?.serverText?.contains("Authorization Violation") == true)
        // The message names the refused public key (not secret) so the operator can look it up.
        #expect(error?.message.contains(fixtures.users["nkey-other"] ?? "?") == true, "\(String(describing: error))")

        // A signing callback that signs with another key is caught before CONNECT is sent.
        let other = try NATSNKeyPair(seed: try fixtures.text("nkey-other.seed"))
        let mismatched = await Self.connectFailure(Self.options(server, .nkey(publicKey: try #require(fixtures.users["nkey-user"])) { other.sign($0) }))
        #expect(mismatched?.code == .invalidCredentials, "\(String(describing: mismatched))")
    }

    // MARK: - JWT operator mode

    @Test func operatorModeUsersConnectWithCredsFileJWTAndSeedJWTFileAndCallbacks() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let server = try await Self.operatorServer(fixtures)
        defer { server.stop() }

        let alice = try await NATSClient.connect(Self.options(server, .credsFile(fixtures.path("alice.creds"))))
        let (jwt, seed) = try fixtures.jwtAndSeed(ofCreds: "bob.creds")
        let bob = try await NATSClient.connect(Self.options(server, .jwt(jwt, seed: seed)))
        try await Self.exchange(alice, bob)

        try fixtures.write("bob.jwt", "-----BEGIN NATS USER JWT-----\n\(jwt)\n------END NATS USER JWT------\n")
        try fixtures.write("bob.seed", seed + "\n")
        let bobFiles = try await NATSClient.connect(Self.options(server, .jwtFile(fixtures.path("bob.jwt"), seedFile: fixtures.path("bob.seed"))))
        try await Self.exchange(bobFiles, alice, subject: "creds.files")

        let vault = try NATSNKeyPair(seed: seed)
        let viaCallbacks = try await NATSClient.connect(Self.options(server, .userJWT({ jwt }, sign: { vault.sign($0) })))
        try await Self.exchange(viaCallbacks, bob, subject: "creds.callbacks")

        let none = await Self.connectFailure(Self.options(server, nil))
        #expect(none?.code == .authorizationViolation)
        for client in [alice, bob, bobFiles, viaCallbacks] { await client.close() }
    }

    @Test func expiredAndRevokedJWTsAreRefusedWithTypedErrors() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let server = try await Self.operatorServer(fixtures)
        defer { server.stop() }

        // The server says only 'Authorization Violation'; the client sees from the JWT's exp
        // that it has expired and reports that.
        let expired = await Self.connectFailure(Self.options(server, .credsFile(fixtures.path("expired.creds"))))
        #expect(expired?.code == .authenticationExpired, "\(String(describing: expired))")
        #expect(expired?.serverText?.contains("Authorization Violation") == true)
        #expect(expired?.message.contains("expired") == true)

        let revoked = await Self.connectFailure(Self.options(server, .credsFile(fixtures.path("revoked.creds"))))
        #expect(revoked?.code == .authorizationViolation, "\(String(describing: revoked))")
        #expect(revoked?.message.contains("revoked") == true, "\(String(describing: revoked))")
    }

    @Test func jwtExpiringWhileConnectedDisconnectsAndARotatedCredsFileReconnects() async throws {
        let fixtures = try await NATSCredentialFixtures.make(expiresIn: 3)
        defer { fixtures.remove() }
        let server = try await Self.operatorServer(fixtures)
        defer { server.stop() }
        // The file the client reads holds the soon-expiring user first.
        let path = try fixtures.write("rotating.creds", try fixtures.text("soon.creds"))
        var options = Self.options(server, .credsFile(path))
        options.reconnectWait = .milliseconds(200)
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        try await eventually("'User Authentication Expired' from the server", timeout: .seconds(15)) {
            events.count { if case .disconnected(_, let error?) = $0 { return error.code == .authenticationExpired } else { return false } } > 0
        }
        for case .disconnected(_, let error?) in events.all { Self.record(error) }
        // Reconnect attempts read the file again: renewed credentials get the client back.
        try fixtures.write("rotating.creds", try fixtures.text("alice.creds"))
        try await eventually("reconnect with the rotated creds file", timeout: .seconds(15)) {
            events.count { if case .reconnected = $0 { return true } else { return false } } > 0
        }
        try await client.flush()
        await client.close()
    }

    @Test func revocationWhileConnectedDisconnectsWithATypedError() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let server = try await Self.operatorServer(fixtures)
        defer { server.stop() }
        var options = Self.options(server, .credsFile(fixtures.path("live.creds")))
        options.allowReconnect = false
        let live = try await NATSClient.connect(options)
        let events = EventRecorder(live)
        // A system-account user pushes the account JWT that revokes "live".
        let system = try await NATSClient.connect(Self.options(server, .credsFile(fixtures.path("sys.creds"))))
        let reply = try await system.request(try fixtures.text("revoke-live.jwt"), to: "$SYS.REQ.ACCOUNT.\(fixtures.account).CLAIMS.UPDATE")
        #expect(reply.string.contains("\"code\":200"), "\(reply.string)")
        try await eventually("'User Authentication Revoked' from the server", timeout: .seconds(10)) {
            events.count {
                switch $0 {
                case .disconnected(_, let error?), .closed(let error?): return error.code == .authenticationRevoked
                default: return false
                }
            } > 0
        }
        for case .closed(let error?) in events.all { Self.record(error) }
        await system.close()
        await live.close()
    }

    @Test func credentialsAreSentOverTLSAfterTheUpgradeAndWithTLSFirst() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let certs = try await TestCertificates.make()
        for first in [false, true] {
            let tls = NATSTLSConformanceTests.tlsBlock(certs, extra: first ? "handshake_first: true" : "")
            let server = try await NATSServerProcess.withConfig(tls + "\n" + (try fixtures.text("operator.conf")))
            defer { server.stop() }
            var options = NATSTLSConformanceTests.options(server.url, certs)
            options.tlsHandshakeFirst = first
            options.credentials = .credsFile(fixtures.path("alice.creds"))
            let alice = try await NATSClient.connect(options)
            options.credentials = .credsFile(fixtures.path("bob.creds"))
            let bob = try await NATSClient.connect(options)
            try await Self.exchange(alice, bob, subject: "creds.tls")
            options.credentials = .credsFile(fixtures.path("revoked.creds"))
            let refused = await Self.connectFailure(options)
            #expect(refused?.code == .authorizationViolation, "TLS-first \(first): \(String(describing: refused))")
            await alice.close()
            await bob.close()
        }
    }

    // MARK: - Malformed credentials

    @Test func malformedCredentialsFilesGiveTypedErrors() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let server = try await Self.operatorServer(fixtures)
        defer { server.stop() }
        let good = try fixtures.text("alice.creds")
        let (jwt, seed) = try fixtures.jwtAndSeed(ofCreds: "alice.creds")
        let seedBlock = "-----BEGIN USER NKEY SEED-----\n\(seed)\n------END USER NKEY SEED------\n"
        let jwtBlock = "-----BEGIN NATS USER JWT-----\n\(jwt)\n------END NATS USER JWT------\n"
        var badSeed = Array(seed)
        badSeed[10] = badSeed[10] == "A" ? "B" : "A"
        let cases: [(String, String, String)] = [
            ("missing-seed.creds", jwtBlock, "seed block"),
            ("missing-jwt.creds", seedBlock, "JWT block"),
            ("bad-base32.creds", good.replacingOccurrences(of: seed, with: String(seed.dropLast(2)) + "01"), "base32"),
            ("bad-checksum.creds", good.replacingOccurrences(of: seed, with: String(badSeed)), "checksum"),
            ("wrong-prefix.creds", good.replacingOccurrences(of: seed, with: "SA" + seed.dropFirst(2)), "seed"),
            ("truncated.creds", String(good.prefix(good.count - 150)), "truncated"),
            ("not-creds.creds", "hello\n", "not a NATS creds file"),
        ]
        for (name, contents, expected) in cases {
            let path = try fixtures.write(name, contents)
            let error = await Self.connectFailure(Self.options(server, .credsFile(path)))
            #expect(error?.code == .invalidCredentials, "\(name): \(String(describing: error))")
            #expect(error?.message.contains(path) == true, "\(name): \(String(describing: error))")
            #expect(error?.message.localizedCaseInsensitiveContains(expected) == true, "\(name): expected '\(expected)' in \(String(describing: error))")
        }
        let missing = await Self.connectFailure(Self.options(server, .credsFile(fixtures.path("no-such.creds"))))
        #expect(missing?.code == .invalidCredentials)
        #expect(missing?.message.contains("No such file") == true, "\(String(describing: missing))")

        // In-memory credentials are checked at connect and name the option.
        let invalid = await Self.connectFailure(Self.options(server, .jwt(jwt, seed: String(badSeed))))
        #expect(invalid?.code == .invalidConfiguration, "\(String(describing: invalid))")
        #expect(invalid?.message.contains("NATSOptions.credentials") == true)
        let mismatch = await Self.connectFailure(Self.options(server, .jwt(jwt, seed: try fixtures.jwtAndSeed(ofCreds: "bob.creds").seed)))
        #expect(mismatch?.message.contains("belongs to user") == true, "\(String(describing: mismatch))")
    }

    // MARK: - No secrets in error texts

    @Test func errorTextsNeverContainSeedsOrJWTs() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let nkeyServer = try await NATSServerProcess.withConfig(try fixtures.text("nkey-users.conf"))
        defer { nkeyServer.stop() }
        let operatorServer = try await Self.operatorServer(fixtures)
        defer { operatorServer.stop() }
        let (jwt, seed) = try fixtures.jwtAndSeed(ofCreds: "alice.creds")
        let otherSeed = try fixtures.text("nkey-other.seed").trimmingCharacters(in: .whitespacesAndNewlines)
        var texts: [String] = []
        var failures: [NATSOptions] = [
            Self.options(nkeyServer, .nkeySeed(otherSeed)),
            Self.options(nkeyServer, .nkeySeedFile(fixtures.path("nkey-other.seed"))),
            Self.options(operatorServer, .credsFile(fixtures.path("expired.creds"))),
            Self.options(operatorServer, .credsFile(fixtures.path("revoked.creds"))),
            Self.options(operatorServer, .jwt(jwt, seed: otherSeed)),
            Self.options(operatorServer, .jwt(jwt, seed: String(seed.dropLast()))),
            Self.options(operatorServer, .jwt(String(jwt.dropLast(5)), seed: seed)),
            Self.options(nkeyServer, .credsFile(fixtures.path("alice.creds"))),
            Self.options(operatorServer, .nkeySeed(try fixtures.jwtAndSeed(ofCreds: "sys.creds").seed)),
        ]
        let truncated = try fixtures.write("cut.creds", String(try fixtures.text("alice.creds").prefix(300)))
        failures.append(Self.options(operatorServer, .credsFile(truncated)))
        for options in failures {
            texts.append(String(describing: options.credentials))
            if let error = await Self.connectFailure(options) {
                texts += [error.description, error.message, String(describing: error), String(reflecting: error)]
            }
        }
        texts += Self.collectedErrors.withLock { $0 }
        #expect(texts.count > 20)
        for text in texts {
            for secret in fixtures.secrets + [seed, jwt, otherSeed] {
                #expect(!text.contains(secret), "a seed or JWT appears in: \(text.prefix(300))")
                // Neither may any long piece of one (a JWT's payload or signature part, half a seed).
                for piece in secret.split(separator: ".") where piece.count >= 20 {
                    #expect(!text.contains(piece), "part of a seed or JWT appears in: \(text.prefix(300))")
                }
            }
        }
    }
}
