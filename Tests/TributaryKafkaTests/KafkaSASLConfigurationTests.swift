import Testing
import TributaryKafka

/// SASL settings: validation at connect, names as librdkafka spells them, and no password in
/// any text a configuration prints.
@Suite("Kafka SASL configuration")
struct KafkaSASLConfigurationTests {
    static let secret = "Tr0ub4dor&3-never-print-me"

    @Test func descriptionsRedactThePassword() {
        var configuration = KafkaClientConfiguration()
        configuration.securityProtocol = .saslPlaintext
        configuration.sasl = .scramSHA256(username: "orders", password: Self.secret)
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in ["\(configuration)", String(reflecting: configuration), "\(configuration.sasl!)", String(reflecting: configuration.sasl!), dumped] {
            #expect(!text.contains(Self.secret), "\(text)")
        }
        #expect("\(configuration.sasl!)" == #"KafkaSASL(SCRAM-SHA-256, user "orders", password <redacted>)"#)
        #expect("\(configuration)".contains("securityProtocol: SASL_PLAINTEXT"))
    }

    @Test func namesFollowLibrdkafka() {
        #expect(KafkaSASL.Mechanism(name: "scram-sha-512") == .scramSHA512)
        #expect(KafkaSASL.Mechanism(name: "PLAIN") == .plain)
        #expect(KafkaSASL.Mechanism(name: "GSSAPI") == nil)
        #expect(KafkaSecurityProtocol(name: "sasl_plaintext") == .saslPlaintext)
        #expect(KafkaSecurityProtocol(name: "SASL_SSL") == .saslSSL)
        #expect(KafkaSecurityProtocol(name: "tls") == nil)
    }

    private func connectFails(_ configure: (inout KafkaClientConfiguration) -> Void, mentioning words: [String]) async {
        var configuration = KafkaClientConfiguration()
        configuration.bootstrapServers = [KafkaBrokerAddress(host: "127.0.0.1", port: 1)]
        configure(&configuration)
        do {
            _ = try await KafkaClient.connect(configuration)
            Issue.record("connect accepted an invalid configuration")
        } catch {
            #expect(error.code == .invalidConfiguration, "\(error)")
            #expect(!error.isRetriable)
            for word in words { #expect(error.message.contains(word), "\(error.message)") }
            #expect(!"\(error)".contains(Self.secret))
        }
    }

    @Test func invalidCombinationsFailAtConnectNamingTheField() async {
        await connectFails({ $0.securityProtocol = .saslPlaintext }, mentioning: ["sasl is nil", "KafkaClientConfiguration.sasl"])
        await connectFails({ $0.sasl = .plain(username: "u", password: Self.secret) }, mentioning: ["securityProtocol", ".saslPlaintext"])
        await connectFails({ $0.securityProtocol = .saslPlaintext; $0.sasl = .plain(username: "", password: Self.secret) }, mentioning: ["sasl.username"])
        await connectFails({ $0.tls = TLSConfiguration() }, mentioning: ["tls is set", ".ssl"])
        await connectFails({ $0.securityProtocol = .saslSSL }, mentioning: ["sasl is nil"])
        await connectFails({ $0.securityProtocol = .ssl; $0.sasl = .scramSHA512(username: "u", password: Self.secret) }, mentioning: ["securityProtocol", ".saslPlaintext"])
    }

    /// The README's "Kafka SASL" snippet, verbatim, so it keeps compiling (it is not run here: it
    /// needs a SASL broker; the conformance suite covers that).
    static func readmeSnippet() async throws {
        var configuration = KafkaClientConfiguration()             // bootstrap from KAFKA_BROKERS
        configuration.securityProtocol = .saslPlaintext             // security.protocol=SASL_PLAINTEXT
        configuration.sasl = .scramSHA512(username: "orders-service", password: "s3cret")
        // or .scramSHA256(username:password:), .plain(username:password:)
        print(configuration)                                        // … sasl: KafkaSASL(SCRAM-SHA-512, user "orders-service", password <redacted>) …

        do {
            let kafka = try await KafkaClient.connect(configuration)
            print(try await kafka.listTopics())
            kafka.close()
        } catch {
            switch error.code {
            case .authenticationFailed: print(error.message)      // SASL_AUTHENTICATION_FAILED (58): … check sasl.username, sasl.password …
            case .unsupportedSASLMechanism: print(error.message)  // … does not enable SASL mechanism SCRAM-SHA-512; it offers PLAIN, SCRAM-SHA-256 …
            default: throw error
            }
        }
    }
}
