import Foundation
import Testing
import TributaryKafka
import TributaryTestSupport

/// `kafka-cat` with librdkafka's `-X` security properties against a SASL broker (tansu behind
/// `Tests/Support/sasl_front.py`, see `KafkaSASLBroker`).
@Suite("kafka-cat with SASL end to end", .serialized)
struct KafkaCatSASLEndToEndTests {
    private func kafkaCat(_ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = ChildProcess(try toolPath("kafka-cat"), arguments)
        try child.start()
        return await child.finish(stdin: stdin.map { Data($0.utf8) }, timeout: .seconds(60))
    }

    private func security(_ broker: KafkaSASLBroker, mechanism: String, password: String? = nil) -> [String] {
        ["-b", broker.bootstrap, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=\(mechanism)",
         "-X", "sasl.username=\(broker.username)", "-X", "sasl.password=\(password ?? broker.password)"]
    }

    @Test func producesAndConsumesWithSCRAMSHA256() async throws {
        let broker = try await KafkaSASLBroker()
        defer { broker.stop() }
        let topic = "cat-sasl-\(UInt32.random(in: 0...UInt32.max))"
        let produced = try await kafkaCat(security(broker, mechanism: "SCRAM-SHA-256") + ["-P", "-t", topic, "-K", ":"], stdin: "k1:hello\nk2:sasl world\n")
        #expect(produced.status == 0, "\(produced.stderr)\nfront:\n\(broker.logs())")
        let consumed = try await kafkaCat(security(broker, mechanism: "SCRAM-SHA-256") + ["-C", "-t", topic, "-e", "-f", "%k=%s\\n"])
        #expect(consumed.status == 0, "\(consumed.stderr)")
        // The broker creates the topic with its default partition count: order only within one.
        #expect(consumed.stdout.split(separator: "\n").sorted() == ["k1=hello", "k2=sasl world"], "\(consumed.stdout)")
        #expect(broker.count("authenticated user=alice mechanism=SCRAM-SHA-256 ") >= 2, "\(broker.logs())")
        let listed = try await kafkaCat(security(broker, mechanism: "SCRAM-SHA-512") + ["-L", "-t", topic])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("  topic \"\(topic)\" with "), "\(listed.stdout)")
    }

    @Test func aWrongPasswordExitsWithTheAuthenticationErrorAndNoPassword() async throws {
        let broker = try await KafkaSASLBroker()
        defer { broker.stop() }
        let wrong = "Not-The-Pa55word"
        let result = try await kafkaCat(security(broker, mechanism: "SCRAM-SHA-512", password: wrong) + ["-L"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("SASL_AUTHENTICATION_FAILED"), "\(result.stderr)")
        #expect(!result.stderr.contains(wrong) && !result.stdout.contains(wrong), "\(result.stderr)")
        let dump = try await kafkaCat(security(broker, mechanism: "PLAIN", password: wrong) + ["-X", "dump"])
        #expect(dump.status == 0, "\(dump.stderr)")
        #expect(dump.stdout.contains("sasl.password = [redacted]") && !dump.stdout.contains(wrong), "\(dump.stdout)")
    }

    @Test func aMechanismTheBrokerDoesNotOfferIsNamed() async throws {
        let broker = try await KafkaSASLBroker(mechanisms: ["SCRAM-SHA-512"])
        defer { broker.stop() }
        let result = try await kafkaCat(security(broker, mechanism: "PLAIN") + ["-L"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("it offers SCRAM-SHA-512"), "\(result.stderr)")
    }

    @Test func saslSSLWithTheCAFromTheCommandLine() async throws {
        let certificates = try await TestCertificates.make()
        let tlsPort = try freePort()
        let broker = try await KafkaSASLBroker(advertisedPort: tlsPort)
        defer { broker.stop() }
        let relay = try await TLSFrontProcess(port: tlsPort, upstreamPort: broker.frontPort, certificate: certificates.serverCertificate, key: certificates.serverKey)
        defer { relay.stop() }
        let topic = "cat-sasl-ssl-\(UInt32.random(in: 0...UInt32.max))"
        let options = ["-b", "127.0.0.1:\(tlsPort)", "-X", "security.protocol=SASL_SSL", "-X", "ssl.ca.location=\(certificates.caFile)",
                       "-X", "sasl.mechanism=SCRAM-SHA-512", "-X", "sasl.username=\(broker.username)", "-X", "sasl.password=\(broker.password)"]
        let produced = try await kafkaCat(options + ["-P", "-t", topic], stdin: "over tls\n")
        #expect(produced.status == 0, "\(produced.stderr)")
        let consumed = try await kafkaCat(options + ["-C", "-t", topic, "-e", "-q"])
        #expect(consumed.status == 0, "\(consumed.stderr)")
        #expect(consumed.stdout == "over tls\n")
        #expect(broker.count("authenticated user=alice mechanism=SCRAM-SHA-512 ") >= 2, "\(broker.logs())")
    }

    private func oauth(_ broker: KafkaSASLBroker, config: String) -> [String] {
        ["-b", broker.bootstrap, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=OAUTHBEARER",
         "-X", "enable.sasl.oauthbearer.unsecure.jwt=true", "-X", "sasl.oauthbearer.config=\(config)"]
    }

    /// The same `-X` properties librdkafka takes for its unsecured-JWT mode.
    @Test func producesAndConsumesWithOAuthBearerUnsecuredJWT() async throws {
        let broker = try await KafkaSASLBroker()
        defer { broker.stop() }
        let topic = "cat-oauth-\(UInt32.random(in: 0...UInt32.max))"
        let options = oauth(broker, config: "principal=svc-orders lifeSeconds=300 scope=kafka") + ["-X", "sasl.oauthbearer.extensions=traceId=cat"]
        let produced = try await kafkaCat(options + ["-P", "-t", topic, "-K", ":"], stdin: "k1:hello\nk2:bearer world\n")
        #expect(produced.status == 0, "\(produced.stderr)\nfront:\n\(broker.logs())")
        let consumed = try await kafkaCat(options + ["-C", "-t", topic, "-e", "-f", "%k=%s\\n"])
        #expect(consumed.status == 0, "\(consumed.stderr)")
        #expect(consumed.stdout.split(separator: "\n").sorted() == ["k1=hello", "k2=bearer world"], "\(consumed.stdout)")
        #expect(broker.count("authenticated user=svc-orders mechanism=OAUTHBEARER (reauthentication=no) extensions=traceId=cat") >= 2, "\(broker.logs())")
        #expect(broker.count("token rejected") == 0, "\(broker.logs())")
    }

    @Test func aRefusedPrincipalExitsWithTheBrokersStatus() async throws {
        let broker = try await KafkaSASLBroker()
        defer { broker.stop() }
        let result = try await kafkaCat(oauth(broker, config: "principal=mallory") + ["-L"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("SASL_AUTHENTICATION_FAILED") && result.stderr.contains("invalid_token"), "\(result.stderr)")
        #expect(result.stderr.contains("principal \"mallory\""), "\(result.stderr)")
        #expect(!result.stderr.contains("eyJhbGciOiJub25lIn0"), "\(result.stderr)")   // no token
        #expect(broker.count("token rejected user=mallory mechanism=OAUTHBEARER") == 1, "\(broker.logs())")
    }

    @Test func oidcIsAUsageErrorNamingTheAlternative() async throws {
        let result = try await kafkaCat(["-b", "127.0.0.1:1", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=OAUTHBEARER",
                                         "-X", "sasl.oauthbearer.method=oidc", "-L"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("oidc is not available") && result.stderr.contains("KafkaSASL.oauthBearer(tokenProvider:)"), "\(result.stderr)")
    }
}
