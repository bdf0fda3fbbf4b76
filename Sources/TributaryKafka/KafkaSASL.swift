import TributaryKafkaProtocol

/// SASL credentials for Kafka connections, like librdkafka's `sasl.mechanism`, `sasl.username`
/// and `sasl.password`. Set ``KafkaClientConfiguration/sasl`` together with
/// ``KafkaClientConfiguration/securityProtocol`` `.saslPlaintext`.
///
/// ```swift
/// var configuration = KafkaClientConfiguration()
/// configuration.securityProtocol = .saslPlaintext
/// configuration.sasl = .scramSHA512(username: "orders-service", password: secret)
/// ```
///
/// The description never shows the password: `KafkaSASL(SCRAM-SHA-512, user "orders-service",
/// password <redacted>)`.
public struct KafkaSASL: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A SASL mechanism Tributary speaks.
    public struct Mechanism: Hashable, Sendable, CustomStringConvertible {
        /// The IANA name, as brokers list it (`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`).
        public let name: String
        private init(_ name: String) { self.name = name }
        /// `PLAIN` (RFC 4616): the password travels as is; use it over TLS or trusted networks.
        public static let plain = Mechanism("PLAIN")
        /// `SCRAM-SHA-256` (RFC 7677, KIP-84): the password never leaves the client.
        public static let scramSHA256 = Mechanism("SCRAM-SHA-256")
        /// `SCRAM-SHA-512` (KIP-84).
        public static let scramSHA512 = Mechanism("SCRAM-SHA-512")
        /// Every mechanism, in the order above.
        public static let all: [Mechanism] = [.plain, .scramSHA256, .scramSHA512]

        /// The mechanism named `name` (case-insensitive), as librdkafka's `sasl.mechanism` takes
        /// it; nil for one Tributary does not speak (`GSSAPI`, `OAUTHBEARER`).
        public init?(name: String) {
            guard let match = Mechanism.all.first(where: { $0.name == name.uppercased() }) else { return nil }
            self = match
        }

        public var description: String { name }
    }

    /// The mechanism.
    public var mechanism: Mechanism
    /// The user name.
    public var username: String
    /// The password. Never printed by ``description``.
    public var password: String

    /// Credentials for `mechanism`.
    public init(mechanism: Mechanism, username: String, password: String) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
    }

    /// PLAIN credentials.
    public static func plain(username: String, password: String) -> KafkaSASL {
        KafkaSASL(mechanism: .plain, username: username, password: password)
    }

    /// SCRAM-SHA-256 credentials.
    public static func scramSHA256(username: String, password: String) -> KafkaSASL {
        KafkaSASL(mechanism: .scramSHA256, username: username, password: password)
    }

    /// SCRAM-SHA-512 credentials.
    public static func scramSHA512(username: String, password: String) -> KafkaSASL {
        KafkaSASL(mechanism: .scramSHA512, username: username, password: password)
    }

    /// The mechanism and user; the password is redacted.
    public var description: String { "KafkaSASL(\(mechanism), user \"\(username)\", password <redacted>)" }
    /// Same as ``description``.
    public var debugDescription: String { description }
    /// Mechanism and user only, so `dump` and debuggers do not show the password either.
    public var customMirror: Mirror { Mirror(self, children: ["mechanism": mechanism, "username": username, "password": "<redacted>"]) }

    /// The protocol layer's exchange for these credentials.
    func exchange(clientNonce: String) throws(SASLError) -> KafkaSASLExchange {
        switch mechanism {
        case .scramSHA256: try KafkaSASLExchange(.scram(.sha256, username: username, password: password), clientNonce: clientNonce)
        case .scramSHA512: try KafkaSASLExchange(.scram(.sha512, username: username, password: password), clientNonce: clientNonce)
        default: try KafkaSASLExchange(.plain(username: username, password: password), clientNonce: clientNonce)
        }
    }
}

/// How connections to brokers are secured, like librdkafka's and Java's `security.protocol`.
public enum KafkaSecurityProtocol: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// No TLS, no authentication (`PLAINTEXT`). The default.
    case plaintext = "PLAINTEXT"
    /// TLS without SASL (`SSL`); settings in ``KafkaClientConfiguration/tls``.
    case ssl = "SSL"
    /// SASL authentication over plain TCP (`SASL_PLAINTEXT`); needs ``KafkaClientConfiguration/sasl``.
    case saslPlaintext = "SASL_PLAINTEXT"
    /// SASL authentication over TLS (`SASL_SSL`); needs ``KafkaClientConfiguration/sasl``,
    /// TLS settings in ``KafkaClientConfiguration/tls``.
    case saslSSL = "SASL_SSL"

    /// The protocol named `name` (case-insensitive), as `security.protocol` takes it.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.rawValue == name.uppercased() }) else { return nil }
        self = match
    }

    /// Whether connections authenticate with SASL.
    public var usesSASL: Bool { self == .saslPlaintext || self == .saslSSL }
    /// Whether connections use TLS.
    public var usesTLS: Bool { self == .ssl || self == .saslSSL }

    public var description: String { rawValue }
}
