import Foundation
import Testing
import TributaryKafka
import TributaryTestSupport

/// Kafka over TLS (`SSL`) and SASL over TLS (`SASL_SSL`). tansu 0.6.0 cannot serve TLS (its
/// `--cert` and `--key` flags exclude each other), so `Tests/Support/tls_front.py` terminates TLS
/// in front of it (and in front of the SASL front for `SASL_SSL`); tansu advertises the TLS
/// relay's port. Certificates are made by `openssl` at test time (`TestCertificates`).
@Suite("Kafka over TLS", .serialized)
struct KafkaTLSConformanceTests {
    @Test func sslProducesAndConsumesWithTheCAVerified() async throws {
        let certificates = try await TestCertificates.make()
        let tlsPort = try freePort()
        let tansu = try await TansuProcess(advertisedPort: tlsPort)
        defer { tansu.stop() }
        let relay = try await TLSFrontProcess(port: tlsPort, upstreamPort: tansu.port, certificate: certificates.serverCertificate, key: certificates.serverKey)
        defer { relay.stop() }
        var configuration = try KafkaClientConfiguration(bootstrapServers: "127.0.0.1:\(tlsPort)")
        configuration.securityProtocol = .ssl
        configuration.tls = TLSConfiguration(trustRoots: .caFile(certificates.caFile))
        let client = try await KafkaClient.connect(configuration)
        defer { client.close() }
        try await KafkaSASLConformanceTests.roundTrip(client, count: 30, prefix: "tls")

        // A CA that did not sign the broker's certificate: the TLS check fails, typed, at once.
        var foreign = configuration
        foreign.tls = TLSConfiguration(trustRoots: .caFile(certificates.otherCAFile))
        foreign.operationTimeout = .seconds(3)
        do {
            let other = try await KafkaClient.connect(foreign)
            other.close()
            Issue.record("a broker certificate from an unknown CA was accepted")
        } catch {
            #expect(error.code == .connectionFailed, "\(error)")
            #expect("\(error)".lowercased().contains("certificate") || "\(error)".lowercased().contains("verif"), "\(error)")
        }
    }

    @Test(arguments: ["SCRAM-SHA-512", "PLAIN"])
    func saslSSLAuthenticatesOverTLS(mechanism: String) async throws {
        let certificates = try await TestCertificates.make()
        let tlsPort = try freePort()
        let broker = try await KafkaSASLBroker(advertisedPort: tlsPort)
        defer { broker.stop() }
        let relay = try await TLSFrontProcess(port: tlsPort, upstreamPort: broker.frontPort, certificate: certificates.serverCertificate, key: certificates.serverKey)
        defer { relay.stop() }
        // Configured the way the suites take your own secured broker: from the variables.
        let configuration = try kafkaTestConfiguration(environment: [
            "KAFKA_BROKERS": "127.0.0.1:\(tlsPort)", "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "KAFKA_SSL_CA_LOCATION": certificates.caFile, "KAFKA_SASL_MECHANISM": mechanism,
            "KAFKA_SASL_USERNAME": broker.username, "KAFKA_SASL_PASSWORD": broker.password,
        ])
        #expect(configuration.securityProtocol == .saslSSL && configuration.sasl?.mechanism.name == mechanism)
        let client = try await KafkaClient.connect(configuration)
        defer { client.close() }
        try await KafkaSASLConformanceTests.roundTrip(client, count: 30, prefix: "sasl-ssl")
        #expect(broker.count("authenticated user=alice mechanism=\(mechanism) ") >= 1, "\(broker.logs())")
    }
}
