import Foundation
import Synchronization
import Testing
import TributaryNATS
import TributaryTestSupport

/// TLS against a real nats-server 2.15.1, with certificates made by the `openssl` command at
/// test time (TestCertificates).
@Suite("NATS over TLS against a real nats-server")
struct NATSTLSConformanceTests {
    static func tlsBlock(_ certs: TestCertificates, certificate: String? = nil, key: String? = nil, extra: String = "") -> String {
        """
        tls {
          cert_file: "\(certificate ?? certs.serverCertificate)"
          key_file: "\(key ?? certs.serverKey)"
          ca_file: "\(certs.caFile)"
          timeout: 3
          \(extra)
        }
        """
    }

    static func options(_ url: String, _ certs: TestCertificates) -> NATSOptions {
        var options = testOptions(url)
        options.tls = TLSConfiguration(trustRoots: .caFile(certs.caFile))
        return options
    }

    static func expectFailure(_ code: NATSError.Code, _ options: NATSOptions,
                              sourceLocation: SourceLocation = #_sourceLocation) async -> NATSError? {
        var options = options
        options.allowReconnect = false
        do {
            let client = try await NATSClient.connect(options)
            await client.close()
            Issue.record("expected \(code), but the connection succeeded", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func upgradeAfterInfoCarriesPubSubAndRequests() async throws {
        let certs = try await TestCertificates.make()
        let server = try await NATSServerProcess.withConfig(Self.tlsBlock(certs))
        defer { server.stop() }
        // nats:// to a server that requires TLS: upgraded after INFO.
        let client = try await NATSClient.connect(Self.options(server.url, certs))
        let responder = try await NATSClient.connect(Self.options("tls://localhost:\(server.port)", certs))
        let service = try responder.subscribe(to: "tls.echo")
        let serving = Task {
            for try await message in service {
                if let reply = message.replyTo { try responder.publish(Array(message.payload.reversed()), to: reply) }
            }
        }
        try await responder.flush()
        let sub = try client.subscribe(to: "tls.data")
        try await client.flush()
        for i in 0..<500 { try client.publish("m\(i)", to: "tls.data") }
        let got = try await collect(sub, count: 500)
        #expect(got.map(\.string) == (0..<500).map { "m\($0)" })
        let answer = try await client.request("abc", to: "tls.echo", timeout: .seconds(5))
        #expect(answer.string == "cba")
        // A payload larger than one TLS record (16 KiB) crosses record boundaries intact.
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try client.publish(big, to: "tls.data")
        let bigGot = try await collect(sub, count: 1)
        #expect(bigGot.first.map { Array($0.payload) } == big)
        serving.cancel()
        await client.close()
        await responder.close()
    }

    @Test func sharedSuitesTakeTheirTLSFromTheToolVariables() async throws {
        let certs = try await TestCertificates.make()
        let server = try await NATSServerProcess.withConfig(Self.tlsBlock(certs, extra: "verify: true"))
        defer { server.stop() }
        let environment = ["NATS_CA": certs.caFile, "NATS_CERT": certs.clientCertificate, "NATS_KEY": certs.clientKey]
        let client = try await NATSClient.connect(try sharedOptions("tls://localhost:\(server.port)", environment: environment))
        try await client.flush()
        await client.close()
        // Without the client certificate, the server's `verify` refuses the connection.
        _ = await Self.expectFailure(.tlsClientCertificateRejected, try sharedOptions(server.url, environment: ["NATS_CA": certs.caFile]))
        #expect(throws: BrokerEnvironmentError.self) { try sharedOptions(server.url, environment: ["NATS_CERT": certs.clientCertificate]) }
    }

    @Test func defaultTrustIsTheSystemStoreAndTLSURLsNeedATLSServer() async throws {
        let certs = try await TestCertificates.make()
        let server = try await NATSServerProcess.withConfig(Self.tlsBlock(certs))
        defer { server.stop() }
        // No TLS options: the server's requirement still upgrades, and verification is on.
        let error = await Self.expectFailure(.tlsVerificationFailed, testOptions(server.url))
        #expect(error?.tlsVerificationFailure == .unknownAuthority)
        #expect(error?.message.contains("CA") == true)

        let plain = try await NATSServerProcess.plain()
        defer { plain.stop() }
        let refused = await Self.expectFailure(.tlsRequired, testOptions("tls://127.0.0.1:\(plain.port)"))
        #expect(refused?.message.contains("does not offer TLS") == true)
    }

    @Test func expiredCertificateAndNameMismatchAreTyped() async throws {
        let certs = try await TestCertificates.make()
        let expired = try await NATSServerProcess.withConfig(
            Self.tlsBlock(certs, certificate: certs.expiredServerCertificate, key: certs.expiredServerKey))
        defer { expired.stop() }
        let old = await Self.expectFailure(.tlsVerificationFailed, Self.options(expired.url, certs))
        #expect(old?.tlsVerificationFailure == .expired)
        #expect(old?.message.contains("expired") == true)

        let server = try await NATSServerProcess.withConfig(Self.tlsBlock(certs))
        defer { server.stop() }
        var options = Self.options(server.url, certs)
        options.tls?.serverName = "nats.example.com"
        let mismatch = await Self.expectFailure(.tlsVerificationFailed, options)
        #expect(mismatch?.tlsVerificationFailure == .nameMismatch)
        // The loudly named switch connects anyway.
        var insecure = testOptions(expired.url)
        insecure.tls = TLSConfiguration(dangerouslyDisableCertificateVerification: true)
        let client = try await NATSClient.connect(insecure)
        try await client.flush()
        await client.close()
    }

    @Test func mutualTLSWithVerify() async throws {
        let certs = try await TestCertificates.make()
        let server = try await NATSServerProcess.withConfig(Self.tlsBlock(certs, extra: "verify: true"))
        defer { server.stop() }
        _ = await Self.expectFailure(.tlsClientCertificateRejected, Self.options(server.url, certs))
        var foreign = Self.options(server.url, certs)
        foreign.tls?.certificateFile = certs.foreignClientCertificate
        foreign.tls?.privateKeyFile = certs.foreignClientKey
        _ = await Self.expectFailure(.tlsClientCertificateRejected, foreign)

        var options = Self.options(server.url, certs)
        options.tls?.certificateFile = certs.clientCertificate
        options.tls?.privateKeyFile = certs.encryptedClientKey
        options.tls?.privateKeyPassword = certs.clientKeyPassword
        let client = try await NATSClient.connect(options)
        let sub = try client.subscribe(to: "mtls.x")
        try await client.flush()
        try client.publish("hi", to: "mtls.x")
        #expect(try await collect(sub, count: 1).first?.string == "hi")
        await client.close()

        let wrongPassword = "not-the-key-password-55"
        options.tls?.privateKeyPassword = wrongPassword
        let error = await Self.expectFailure(.invalidConfiguration, options)
        #expect(error.map { !"\($0)".contains(wrongPassword) && !"\($0)".contains(certs.clientKeyPassword) } == true,
                "a key password leaked into the error text")
    }

    @Test func tlsFirstHandshake() async throws {
        let certs = try await TestCertificates.make()
        let server = try await NATSServerProcess.withConfig(Self.tlsBlock(certs, extra: "handshake_first: true"))
        defer { server.stop() }
        var options = Self.options(server.url, certs)
        options.tlsHandshakeFirst = true
        let client = try await NATSClient.connect(options)
        let sub = try client.subscribe(to: "first.x")
        try await client.flush()
        try client.publish("tls-first", to: "first.x")
        #expect(try await collect(sub, count: 1).first?.string == "tls-first")
        await client.close()
    }

    @Test func connectionsCutMidRecordLoseNothingAccepted() async throws {
        let certs = try await TestCertificates.make()
        let server = try await NATSServerProcess.withConfig(Self.tlsBlock(certs))
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port)
        defer { proxy.stop() }
        var subscriberOptions = Self.options(server.url, certs)
        subscriberOptions.maxPendingMessages = 1_000_000
        let subscriber = try await NATSClient.connect(subscriberOptions)
        let sub = try subscriber.subscribe(to: "cut.tls")
        try await subscriber.flush()
        let received = Mutex<Set<Int>>([])
        let consumer = Task {
            for try await message in sub {
                if let n = Int(message.string) { _ = received.withLock { $0.insert(n) } }
            }
        }
        let publisher = try await NATSClient.connect(Self.options("nats://127.0.0.1:\(proxy.port)", certs))
        let events = EventRecorder(publisher)
        // TLS records are cut at arbitrary byte offsets (not multiples of any record size).
        proxy.cutClient(every: 150_001)
        var accepted = 0
        let total = 30_000
        for i in 0..<total {
            do {
                try await publisher.publishWaiting("\(i)", to: "cut.tls")
                accepted += 1
            } catch {
                // Reported to the caller: not silent.
            }
            if i % 2000 == 0 { try await Task.sleep(for: .milliseconds(2)) }
        }
        proxy.cutClient(every: nil)
        try await publisher.flush(timeout: .seconds(20))
        try await eventually("all accepted publishes to arrive", timeout: .seconds(20)) {
            received.withLock { $0.count } >= accepted
        }
        #expect(proxy.cuts >= 2, "the proxy never cut the connection (\(proxy.cuts) cuts)")
        #expect(events.count { if case .reconnected = $0 { return true } else { return false } } >= 1)
        #expect(received.withLock { $0.count } == accepted, "lost \(accepted - received.withLock { $0.count }) of \(accepted)")
        #expect(accepted > total / 2)
        print("TLS cuts: \(proxy.cuts), accepted \(accepted) of \(total), received \(received.withLock { $0.count })")
        consumer.cancel()
        await publisher.close()
        await subscriber.close()
    }

    @Test func clusterOfThreeOverTLSFailsOverToALearnedServer() async throws {
        let certs = try await TestCertificates.make()
        let cluster = try NATSClusterProcess(arguments: ["--tls", "--tlscert", certs.serverCertificate, "--tlskey", certs.serverKey])
        try await cluster.startAll()
        defer { cluster.stopAll() }
        var options = Self.options("tls://localhost:\(cluster.servers[0].port)", certs)
        options.noRandomize = true
        let client = try await NATSClient.connect(options)
        let events = EventRecorder(client)
        try await eventually("servers learned from the cluster") { client.knownServers.count >= 3 }
        let sub = try client.subscribe(to: "tls.cluster")
        try await client.flush()
        let first = client.connectedServer
        cluster.stop(0)
        try await eventually("reconnected to another server", timeout: .seconds(15)) {
            events.count { if case .reconnected = $0 { return true } else { return false } } > 0
        }
        #expect(client.connectedServer != first)
        try client.publish("after-failover", to: "tls.cluster")
        #expect(try await collect(sub, count: 1).first?.string == "after-failover")
        await client.close()
    }
}
