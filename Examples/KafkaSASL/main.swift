// The README's Kafka SASL snippets, built by the test command so they cannot rot.
// Run: swift run kafka-sasl [scram|oauthbearer|unsecured]   (uses KAFKA_BROKERS; needs a SASL listener)
import Foundation
import TributaryKafka

/// Stands in for your OAuth 2.0 client-credentials call to the identity provider (Tributary has
/// no HTTP client): the access token and its lifetime in seconds.
func fetchAccessToken() async throws -> (token: String, expiresIn: TimeInterval) {
    guard let token = ProcessInfo.processInfo.environment["KAFKA_ACCESS_TOKEN"] else {
        throw ExampleError("set KAFKA_ACCESS_TOKEN to an access token the broker accepts")
    }
    return (token, 300)
}

struct ExampleError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func scram() async throws {
    // README: Kafka SASL
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

func oauthBearer(unsecured: Bool) async throws {
    // README: Kafka SASL OAUTHBEARER
    var configuration = KafkaClientConfiguration()
    configuration.securityProtocol = .saslSSL                   // security.protocol=SASL_SSL
    configuration.sasl = .oauthBearer {                         // sasl.mechanism=OAUTHBEARER
        let (token, expiresIn) = try await fetchAccessToken()   // your OAuth client: not built in
        return KafkaOAuthBearerToken(value: token, principal: "orders-service",
                                     expiresAt: Date().addingTimeInterval(expiresIn),
                                     extensions: ["logicalCluster": "lkc-42"])
    }
    print(configuration.sasl!)                                  // KafkaSASL(OAUTHBEARER, token provider, token <redacted>)

    // README: Kafka SASL OAUTHBEARER, unsecured test broker
    if unsecured {
        configuration.securityProtocol = .saslPlaintext
        configuration.sasl = .oauthBearer { .unsecuredJWT(principal: "alice", lifetime: .seconds(600)) }
    }

    do {
        let kafka = try await KafkaClient.connect(configuration)
        print(try await kafka.listTopics())
        kafka.close()
    } catch {
        switch error.code {
        case .authenticationFailed: print(error.message)      // … refused SASL OAUTHBEARER authentication of principal "orders-service": … status: invalid_token …
        case .cancelled: print("cancelled")                   // the task was cancelled while the provider ran
        default: throw error
        }
    }
}

@main
struct KafkaSASLExample {
    static func main() async throws {
        switch CommandLine.arguments.dropFirst().first ?? "scram" {
        case "oauthbearer": try await oauthBearer(unsecured: false)
        case "unsecured": try await oauthBearer(unsecured: true)
        default: try await scram()
        }
    }
}
