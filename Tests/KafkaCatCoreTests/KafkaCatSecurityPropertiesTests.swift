import KafkaCatCore
import Testing
import ToolSupport
import TributaryKafka

/// kafka-cat's `-X` security properties, under librdkafka's names.
@Suite("kafka-cat security properties")
struct KafkaCatSecurityPropertiesTests {
    private let environment = ["KAFKA_BROKERS": "127.0.0.1:9092"]
    private let secret = "pa55-w0rd-never-shown"

    private func usageError(_ arguments: [String]) -> String? {
        do {
            _ = try KafkaCatCommand.parse(arguments, environment: environment)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func librdkafkaNamesSetTheClientConfiguration() throws {
        let command = try #require(try KafkaCatCommand.parse(["-L", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=scram-sha-512",
                                                              "-X", "sasl.username=alice", "-X", "sasl.password=\(secret)"], environment: environment))
        var configuration = KafkaClientConfiguration()
        command.properties.apply(to: &configuration)
        #expect(configuration.securityProtocol == .saslPlaintext)
        #expect(configuration.sasl == .scramSHA512(username: "alice", password: secret))
        #expect(!command.properties.dump.contains(secret))
        #expect(command.properties.dump.contains("sasl.password = [redacted]"))
        #expect(!"\(configuration)".contains(secret))
        let plain = try #require(try KafkaCatCommand.parse(["-L", "-X", "security.protocol=sasl_plaintext", "-X", "sasl.mechanism=PLAIN",
                                                            "-X", "sasl.username=bob", "-X", "sasl.password="], environment: environment))
        #expect(plain.properties.saslMechanism == .plain && plain.properties.saslPassword == "")
        #expect(KafkaCatProperties.listing.contains("sasl.mechanism"))
    }

    @Test func incompleteOrContradictorySettingsAreUsageErrors() {
        #expect(usageError(["-L", "-X", "security.protocol=SASL_PLAINTEXT"])?.contains("sasl.mechanism") == true)
        #expect(usageError(["-L", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=PLAIN"])?.contains("sasl.username") == true)
        #expect(usageError(["-L", "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=a", "-X", "sasl.password=\(secret)"])?.contains("security.protocol=sasl_plaintext") == true)
        #expect(usageError(["-L", "-X", "sasl.mechanism=GSSAPI"])?.contains("SCRAM-SHA-256") == true)
        #expect(usageError(["-L", "-X", "security.protocol=tls"])?.contains("sasl_plaintext") == true)
        let wrong = usageError(["-L", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.password=\(secret)"]) ?? ""
        #expect(!wrong.contains(secret))
    }

    @Test func sslPropertiesSetTheTLSConfiguration() throws {
        let command = try #require(try KafkaCatCommand.parse(["-L", "-X", "security.protocol=sasl_ssl", "-X", "sasl.mechanism=SCRAM-SHA-256",
                                                              "-X", "sasl.username=alice", "-X", "sasl.password=\(secret)",
                                                              "-X", "ssl.ca.location=/etc/ca.pem", "-X", "ssl.certificate.location=/etc/c.pem",
                                                              "-X", "ssl.key.location=/etc/k.pem", "-X", "ssl.key.password=\(secret)"], environment: environment))
        var configuration = KafkaClientConfiguration()
        command.properties.apply(to: &configuration)
        #expect(configuration.securityProtocol == .saslSSL)
        #expect(configuration.tls?.trustRoots == .caFile("/etc/ca.pem"))
        #expect(configuration.tls?.certificateFile == "/etc/c.pem" && configuration.tls?.privateKeyFile == "/etc/k.pem")
        #expect(configuration.tls?.privateKeyPassword == secret)
        #expect(!command.properties.dump.contains(secret))
        #expect(!"\(configuration)".contains(secret))
        #expect(usageError(["-L", "-X", "ssl.ca.location=/etc/ca.pem"])?.contains("security.protocol=ssl") == true)
        let insecure = try #require(try KafkaCatCommand.parse(["-L", "-X", "security.protocol=ssl", "-X", "enable.ssl.certificate.verification=false"], environment: environment))
        var open = KafkaClientConfiguration()
        insecure.properties.apply(to: &open)
        #expect(open.tls?.dangerouslyDisableCertificateVerification == true)
    }
}
