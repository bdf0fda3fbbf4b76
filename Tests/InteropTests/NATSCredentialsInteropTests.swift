import Foundation
import Testing
import TributaryNATS
import TributaryTestSupport

/// NKEY and JWT credentials across clients: nats-py connecting with `nkeys_seed=` and
/// `user_credentials=` to the same server as Tributary, messages both ways; and the nats-*
/// tools with `--creds`, `--nkey`, `NATS_CREDS` and `NATS_NKEY`.
@Suite("Interop: NKEY and JWT credentials", .serialized)
struct NATSCredentialsInteropTests {
    func python(_ arguments: [String], environment: [String: String]) throws -> ChildProcess {
        ChildProcess(try BrokerEnvironment.pythonExecutable(), [peerScript()] + arguments, environment: environment)
    }

    func exchange(url: String, tributary: NATSCredentials, peerEnvironment: [String: String]) async throws {
        var options = NATSOptions(url: url)
        options.credentials = tributary
        let client = try await NATSClient.connect(options)

        // nats-py publishes, Tributary receives.
        let fromPy = uniqueSubject("creds.from-py")
        let sub = try client.subscribe(to: fromPy)
        try await client.flush()
        let pub = try python(["pub", url, fromPy, "3"], environment: peerEnvironment)
        try pub.start()
        let pubResult = await pub.finish()
        #expect(pubResult.status == 0, "nats-py pub failed: \(pubResult.stderr)")
        let got = try await collect(sub, count: 4)
        #expect(got.prefix(3).map(\.string) == ["py-0", "py-1", "py-2"])

        // Tributary publishes, nats-py receives.
        let toPy = uniqueSubject("creds.to-py")
        let peer = try python(["sub", url, toPy, "1", "20"], environment: peerEnvironment)
        try peer.start()
        try await peer.waitForLine("READY")
        try client.publish("from swift", to: toPy)
        try await client.flush()
        let result = await peer.finish()
        #expect(result.status == 0, "nats-py sub failed: \(result.stderr)")
        #expect(result.stdout.contains("66726f6d207377696674"), "\(result.stdout)")   // "from swift"
        await client.close()
    }

    @Test func natsPyWithNkeysSeedAndTributaryShareAnNkeyServer() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let server = try await NATSServerProcess.withConfig(try fixtures.text("nkey-users.conf"))
        defer { server.stop() }
        try await exchange(url: server.url, tributary: .nkeySeedFile(fixtures.path("nkey-user.seed")),
                           peerEnvironment: ["PEER_NKEYS_SEED": fixtures.path("nkey-user.seed")])
    }

    @Test func natsPyWithUserCredentialsAndTributaryShareAnOperatorModeServer() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let server = try await NATSServerProcess.withConfig(try fixtures.text("operator.conf"))
        defer { server.stop() }
        // Different users of the same account: nats-py as bob, Tributary as alice.
        try await exchange(url: server.url, tributary: .credsFile(fixtures.path("alice.creds")),
                           peerEnvironment: ["PEER_USER_CREDENTIALS": fixtures.path("bob.creds")])
    }

    // MARK: - Tools

    func awaitStderr(_ child: ChildProcess, containing text: String, timeout: Duration = .seconds(20)) async throws {
        try await child.waitForStderr(containing: text, timeout: timeout)
    }

    @Test func toolsTakeCredsAndNkeyFlagsAndEnvironment() async throws {
        let fixtures = try await NATSCredentialFixtures.make()
        defer { fixtures.remove() }
        let jwtServer = try await NATSServerProcess.withConfig(try fixtures.text("operator.conf"))
        defer { jwtServer.stop() }
        let nkeyServer = try await NATSServerProcess.withConfig(try fixtures.text("nkey-users.conf"))
        defer { nkeyServer.stop() }

        // --creds for nats-sub, NATS_CREDS for nats-pub.
        let subject = uniqueSubject("tools.creds")
        let sub = ChildProcess(try toolPath("nats-sub"), ["-s", jwtServer.url, "--creds", fixtures.path("alice.creds"), subject, "--count", "1"])
        try sub.start()
        try await awaitStderr(sub, containing: "Subscribing on")
        let pub = ChildProcess(try toolPath("nats-pub"), ["-s", jwtServer.url, subject, "with creds"],
                               environment: ["NATS_CREDS": fixtures.path("bob.creds")])
        try pub.start()
        let pubResult = await pub.finish()
        #expect(pubResult.status == 0, "nats-pub: \(pubResult.stderr)")
        let subResult = await sub.finish()
        #expect(subResult.status == 0, "nats-sub: \(subResult.stderr)")
        #expect(subResult.stdout.contains("with creds"), "\(subResult.stdout)")

        // NATS_NKEY for nats-reply, --nkey for nats-req.
        let rpc = uniqueSubject("tools.nkey")
        let reply = ChildProcess(try toolPath("nats-reply"), ["-s", nkeyServer.url, rpc, "pong", "--count", "1"],
                                 environment: ["NATS_NKEY": fixtures.path("nkey-user.seed")])
        try reply.start()
        try await awaitStderr(reply, containing: "Listening on")
        let req = ChildProcess(try toolPath("nats-req"), ["-s", nkeyServer.url, "--nkey", fixtures.path("nkey-user.seed"), rpc, "ping", "--timeout", "3s"])
        try req.start()
        let reqResult = await req.finish()
        #expect(reqResult.status == 0, "nats-req: \(reqResult.stderr)")
        #expect(reqResult.stdout.contains("pong"), "\(reqResult.stdout)")
        _ = await reply.finish()

        // nats-bench and nats-stream take the same flags.
        let bench = ChildProcess(try toolPath("nats-bench"), ["pub", "-s", jwtServer.url, "--creds", fixtures.path("alice.creds"), "--msgs", "1000"])
        try bench.start()
        let benchResult = await bench.finish()
        #expect(benchResult.status == 0, "nats-bench: \(benchResult.stderr)")
        let stream = ChildProcess(try toolPath("nats-stream"), ["ls", "--help"])
        try stream.start()
        let help = await stream.finish()
        #expect(help.stdout.contains("--creds FILE") && help.stdout.contains("--nkey FILE"), "\(help.stdout)")

        // A wrong seed: exit status 2 and a message naming the refusal, without the seed.
        let wrong = ChildProcess(try toolPath("nats-pub"), ["-s", nkeyServer.url, "--nkey", fixtures.path("nkey-other.seed"), "x", "y"])
        try wrong.start()
        let wrongResult = await wrong.finish()
        #expect(wrongResult.status == 2, "\(wrongResult)")
        #expect(wrongResult.stderr.contains("Authorization Violation"), "\(wrongResult.stderr)")
        for secret in fixtures.secrets { #expect(!wrongResult.stderr.contains(secret)) }

        // A missing creds file and both flags at once are reported clearly.
        let missing = ChildProcess(try toolPath("nats-pub"), ["-s", jwtServer.url, "--creds", fixtures.path("nope.creds"), "x", "y"])
        try missing.start()
        let missingResult = await missing.finish()
        #expect(missingResult.status == 2, "\(missingResult)")
        #expect(missingResult.stderr.contains("nope.creds") && missingResult.stderr.contains("No such file"), "\(missingResult.stderr)")
        let both = ChildProcess(try toolPath("nats-pub"), ["--creds", "a", "--nkey", "b", "x", "y"])
        try both.start()
        let bothResult = await both.finish()
        #expect(bothResult.status == 1 && bothResult.stderr.contains("exclude each other"), "\(bothResult.stderr)")
    }
}
