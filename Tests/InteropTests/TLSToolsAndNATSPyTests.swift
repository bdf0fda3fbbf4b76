import Foundation
import Testing
import TributaryNATS
import TributaryTestSupport

/// The nats-* tools' TLS flags and nats-py over mutual TLS, against a nats-server that requires
/// client certificates (certificates made at test time).
@Suite("TLS: tools and nats-py against nats-server with verify")
struct TLSToolsAndNATSPyTests {
    static func server(_ certs: TestCertificates) async throws -> NATSServerProcess {
        try await NATSServerProcess.withConfig("""
            tls {
              cert_file: "\(certs.serverCertificate)"
              key_file: "\(certs.serverKey)"
              ca_file: "\(certs.caFile)"
              verify: true
              timeout: 3
            }
            """)
    }

    func tlsPeerScript() -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("peers/nats_py_tls_peer.py").path
    }

    @Test func toolsTakeNatscliTLSFlagsAndEnvironment() async throws {
        let certs = try await TestCertificates.make()
        let server = try await Self.server(certs)
        defer { server.stop() }
        let subject = uniqueSubject("tls.tools")
        // Flags for nats-sub; the environment variables natscli reads for nats-pub.
        let sub = ChildProcess(try toolPath("nats-sub"), ["-s", server.url, subject, "--count", "1", "--raw",
                                                          "--tlsca", certs.caFile, "--tlscert", certs.clientCertificate,
                                                          "--tlskey", certs.clientKey])
        try sub.start()
        try await Task.sleep(for: .milliseconds(800))
        let pub = ChildProcess(try toolPath("nats-pub"), ["-s", server.url, subject, "over tls"],
                               environment: ["NATS_CA": certs.caFile, "NATS_CERT": certs.clientCertificate, "NATS_KEY": certs.clientKey])
        try pub.start()
        let pubResult = await pub.finish()
        #expect(pubResult.status == 0, "nats-pub: \(pubResult.stderr)")
        let subResult = await sub.finish()
        #expect(subResult.status == 0, "nats-sub: \(subResult.stderr)")
        #expect(subResult.stdout.split(separator: "\n") == ["over tls"], "\(subResult.stdout)")

        // Without a client certificate the server refuses, and the tool says so (exit 2).
        let refused = ChildProcess(try toolPath("nats-pub"), ["-s", server.url, subject, "x", "--tlsca", certs.caFile])
        try refused.start()
        let refusedResult = await refused.finish()
        #expect(refusedResult.status == 2)
        #expect(refusedResult.stderr.contains("client's certificate"), "\(refusedResult.stderr)")
        // A certificate without its key is a usage error (exit 1).
        let half = ChildProcess(try toolPath("nats-pub"), ["-s", server.url, subject, "x", "--tlscert", certs.clientCertificate])
        try half.start()
        #expect(await half.finish().status == 1)
    }

    @Test func natsPyAndTributaryExchangeRequestsOverMutualTLS() async throws {
        let certs = try await TestCertificates.make()
        let server = try await Self.server(certs)
        defer { server.stop() }
        var options = testOptionsTLS(server.url)
        options.tls = TLSConfiguration(trustRoots: .caFile(certs.caFile), certificateFile: certs.clientCertificate,
                                       privateKeyFile: certs.clientKey)
        let client = try await NATSClient.connect(options)

        // nats-py answers, Tributary asks.
        let pySubject = uniqueSubject("tls.py-serves")
        let peer = ChildProcess(try BrokerEnvironment.pythonExecutable(),
                                [tlsPeerScript(), "reply", "tls://127.0.0.1:\(server.port)", pySubject, certs.caFile,
                                 certs.clientCertificate, certs.clientKey])
        try peer.start()
        try await peer.waitForLine("READY")
        let answer = try await client.request("hello", to: pySubject, timeout: .seconds(5))
        #expect(answer.string == "py:hello")
        let peerResult = await peer.finish()
        #expect(peerResult.status == 0, "nats-py: \(peerResult.stderr)")

        // Tributary answers, nats-py asks.
        let swiftSubject = uniqueSubject("tls.swift-serves")
        let service = try client.subscribe(to: swiftSubject)
        let serving = Task {
            for try await message in service {
                if let reply = message.replyTo { try client.publish("swift:" + message.string, to: reply) }
            }
        }
        try await client.flush()
        let asker = ChildProcess(try BrokerEnvironment.pythonExecutable(),
                                 [tlsPeerScript(), "request", "tls://127.0.0.1:\(server.port)", swiftSubject, "ping", certs.caFile,
                                  certs.clientCertificate, certs.clientKey])
        try asker.start()
        let askerResult = await asker.finish()
        #expect(askerResult.status == 0, "nats-py: \(askerResult.stderr)")
        #expect(askerResult.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "swift:ping")
        serving.cancel()
        await client.close()
    }

    private func testOptionsTLS(_ url: String) -> NATSOptions {
        var options = NATSOptions(url: url)
        options.connectTimeout = .seconds(3)
        return options
    }
}
