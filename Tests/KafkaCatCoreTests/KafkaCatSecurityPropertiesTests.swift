import Foundation
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

/// kafka-cat's OAUTHBEARER properties: librdkafka's unsecured-JWT mode and the OIDC refusal.
@Suite("kafka-cat OAUTHBEARER properties")
struct KafkaCatOAuthBearerPropertiesTests {
    private let environment = ["KAFKA_BROKERS": "127.0.0.1:9092"]
    private let oauth = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=oauthbearer", "-X", "enable.sasl.oauthbearer.unsecure.jwt=true"]

    private func usageError(_ arguments: [String]) -> String? {
        do {
            _ = try KafkaCatCommand.parse(["-L"] + arguments, environment: environment)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func unsecuredJWTModeMakesTokensFromTheConfig() throws {
        let command = try #require(try KafkaCatCommand.parse(["-L"] + oauth + [
            "-X", "sasl.oauthbearer.config=principal=alice lifeSeconds=120 scope=read,write extension_traceId=t1",
            "-X", "sasl.oauthbearer.extensions=logicalCluster=lkc-1,traceId=other",
        ], environment: environment))
        #expect(command.properties.saslMechanism == .oauthBearer)
        #expect(try command.properties.oauthBearerConfig == KafkaCatOAuthBearerConfig(parsing: "principal=alice scope=read,write lifeSeconds=120 extension_traceId=t1"))
        var configuration = KafkaClientConfiguration()
        command.properties.apply(to: &configuration)
        let sasl = try #require(configuration.sasl)
        #expect(sasl.mechanism == .oauthBearer)
        #expect("\(sasl)" == "KafkaSASL(OAUTHBEARER, token provider, token <redacted>)")
        let token = try #require(command.properties.oauthBearerConfig).token(extraExtensions: try #require(command.properties.oauthBearerExtensions))
        #expect(token.principal == "alice")
        #expect(token.extensions == ["logicalCluster": "lkc-1", "traceId": "t1"])
        let lifetime = try #require(token.expiresAt).timeIntervalSinceNow
        #expect(lifetime > 110 && lifetime <= 120, "\(lifetime)")
        #expect(token.value.hasPrefix("eyJhbGciOiJub25lIn0.") && token.value.hasSuffix("."))
        #expect(KafkaCatProperties.listing.contains("sasl.oauthbearer.config"))
        #expect(command.properties.dump.contains("sasl.oauthbearer.config = principal=alice"))
    }

    @Test func theConfigIsParsedAsLibrdkafkaParsesIt() throws {
        let config = try KafkaCatOAuthBearerConfig(parsing: "  principal=svc  scope=a,,b ")
        #expect(config.principal == "svc" && config.lifeSeconds == 3600 && config.scope == ["a", "b"] && config.extensions.isEmpty)
        #expect(try KafkaCatOAuthBearerConfig(parsing: "principalClaimName=sub principal=x").principal == "x")
        for (text, words) in [("lifeSeconds=10", ["no principal"]), ("principal=a principal=b", ["multiple 'principal="]),
                              ("principal=a lifeSeconds=0", ["lifeSeconds=0"]), ("principal=a lifeSeconds=x", ["lifeSeconds=x"]),
                              ("principal=", ["empty 'principal='"]), ("principal=a bogus=1", ["unknown entry 'bogus='"]),
                              ("principal=a extension_auth=x", ["'auth'"]), ("principal=a extension_=x", ["empty 'extension_' key"]),
                              ("principal=a principalClaimName=name", ["principalClaimName=name", "sub"])] {
            do {
                _ = try KafkaCatOAuthBearerConfig(parsing: text)
                Issue.record("'\(text)' was accepted")
            } catch {
                #expect(error.message.hasPrefix("invalid -X sasl.oauthbearer.config: "), "\(error.message)")
                for word in words { #expect(error.message.contains(word), "\(error.message)") }
            }
        }
    }

    @Test func missingOrContradictorySettingsAreUsageErrors() {
        // No unsecured mode: kafka-cat cannot fetch tokens, and says what to use instead.
        let noJWT = usageError(["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=OAUTHBEARER"]) ?? ""
        #expect(noJWT.contains("enable.sasl.oauthbearer.unsecure.jwt=true") && noJWT.contains("KafkaSASL.oauthBearer(tokenProvider:)"), "\(noJWT)")
        #expect(usageError(oauth)?.contains("sasl.oauthbearer.config=principal=NAME") == true)
        let oidc = usageError(oauth + ["-X", "sasl.oauthbearer.method=oidc"]) ?? ""
        #expect(oidc.contains("sasl.oauthbearer.method=oidc is not available") && oidc.contains("HTTPS"), "\(oidc)")
        #expect(usageError(oauth + ["-X", "sasl.oauthbearer.token.endpoint.url=https://idp/token"])?.contains("no OAuth/OIDC client") == true)
        #expect(usageError(oauth + ["-X", "sasl.oauthbearer.method=default", "-X", "sasl.oauthbearer.config=principal=a"]) == nil)
        #expect(usageError(["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=a", "-X", "sasl.password=b",
                            "-X", "sasl.oauthbearer.config=principal=a"])?.contains("sasl.mechanism=OAUTHBEARER") == true)
        #expect(usageError(["-X", "sasl.oauthbearer.config=principal=a"])?.contains("security.protocol=sasl_plaintext") == true)
        #expect(usageError(oauth + ["-X", "sasl.oauthbearer.config=principal=a", "-X", "sasl.oauthbearer.extensions=bad key=1"])?.contains("ASCII letters") == true)
        #expect(usageError(oauth + ["-X", "sasl.oauthbearer.config=principal=a", "-X", "sasl.oauthbearer.extensions=novalue"])?.contains("not key=value") == true)
    }
}
