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
/// For OAUTHBEARER (KIP-255), give a token provider instead of a user and password:
///
/// ```swift
/// configuration.sasl = .oauthBearer {
///     let response = try await identityProvider.clientCredentialsToken()
///     return KafkaOAuthBearerToken(value: response.accessToken, principal: "orders-service",
///                                  expiresAt: Date().addingTimeInterval(response.expiresIn))
/// }
/// ```
///
/// The description never shows the password or a token: `KafkaSASL(SCRAM-SHA-512, user
/// "orders-service", password <redacted>)`, `KafkaSASL(OAUTHBEARER, token provider, token
/// <redacted>)`.
public struct KafkaSASL: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A SASL mechanism Tributary speaks.
    public struct Mechanism: Hashable, Sendable, CustomStringConvertible {
        /// The IANA name, as brokers list it (`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`,
        /// `OAUTHBEARER`).
        public let name: String
        private init(_ name: String) { self.name = name }
        /// `PLAIN` (RFC 4616): the password travels as is; use it over TLS or trusted networks.
        public static let plain = Mechanism("PLAIN")
        /// `SCRAM-SHA-256` (RFC 7677, KIP-84): the password never leaves the client.
        public static let scramSHA256 = Mechanism("SCRAM-SHA-256")
        /// `SCRAM-SHA-512` (KIP-84).
        public static let scramSHA512 = Mechanism("SCRAM-SHA-512")
        /// `OAUTHBEARER` (RFC 7628, KIP-255): a bearer token from a token provider; use
        /// ``KafkaSASL/oauthBearer(tokenProvider:)``.
        public static let oauthBearer = Mechanism("OAUTHBEARER")
        /// Every mechanism, in the order above.
        public static let all: [Mechanism] = [.plain, .scramSHA256, .scramSHA512, .oauthBearer]

        /// The mechanism named `name` (case-insensitive), as librdkafka's `sasl.mechanism` takes
        /// it; nil for one Tributary does not speak (`GSSAPI`).
        public init?(name: String) {
            guard let match = Mechanism.all.first(where: { $0.name == name.uppercased() }) else { return nil }
            self = match
        }

        public var description: String { name }
    }

    /// The mechanism.
    public var mechanism: Mechanism
    /// The user name (PLAIN and SCRAM; empty for OAUTHBEARER).
    public var username: String
    /// The password (PLAIN and SCRAM; empty for OAUTHBEARER). Never printed by ``description``.
    public var password: String
    /// The OAUTHBEARER token provider and its cached token; nil for the other mechanisms.
    let tokenSource: KafkaOAuthBearerTokenSource?

    /// Credentials for `mechanism`.
    public init(mechanism: Mechanism, username: String, password: String) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
        self.tokenSource = nil
    }

    private init(tokenSource: KafkaOAuthBearerTokenSource) {
        self.mechanism = .oauthBearer
        self.username = ""
        self.password = ""
        self.tokenSource = tokenSource
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

    /// OAUTHBEARER (KIP-255) with tokens from `tokenProvider`, like librdkafka's
    /// `oauthbearer_token_refresh_cb` or the Java client's login callback handler.
    ///
    /// The provider is called in the task that authenticates a connection (the caller of
    /// `connect` or of the operation that opened the connection, or the task a connection runs
    /// re-authentication in), never on an I/O thread. A token with ``KafkaOAuthBearerToken/expiresAt``
    /// is reused by every connection until 80 % of its lifetime has passed; without an expiry
    /// the provider is called for every authentication. One call runs at a time: connections
    /// that need a token meanwhile wait for it. Re-authentication before the session ends
    /// (KIP-368) gets its token the same way.
    ///
    /// Errors: a provider that throws fails the authentication with `.authenticationFailed`
    /// (its error as `underlying`); a cancelled task gives `.cancelled`; a token that has expired
    /// is not sent (`.authenticationFailed`); a broker that refuses the token gives
    /// `.authenticationFailed` naming the broker's status (`invalid_token`) and the principal,
    /// never the token, and the cached token is dropped.
    ///
    /// OAuth client-credentials or OIDC token fetching is not built in: the provider brings it
    /// (``KafkaOAuthBearerToken/unsecuredJWT(principal:lifetime:scope:extensions:issuedAt:)``
    /// makes the unsigned tokens test brokers accept).
    public static func oauthBearer(tokenProvider: @escaping @Sendable () async throws -> KafkaOAuthBearerToken) -> KafkaSASL {
        KafkaSASL(tokenSource: KafkaOAuthBearerTokenSource(provider: tokenProvider))
    }

    /// The mechanism and user (or token provider); the password is redacted.
    public var description: String {
        if mechanism == .oauthBearer { return "KafkaSASL(\(mechanism), token provider, token <redacted>)" }
        return "KafkaSASL(\(mechanism), user \"\(username)\", password <redacted>)"
    }
    /// Same as ``description``.
    public var debugDescription: String { description }
    /// Mechanism and user only, so `dump` and debuggers do not show the password either.
    public var customMirror: Mirror {
        if mechanism == .oauthBearer { return Mirror(self, children: ["mechanism": mechanism, "tokenProvider": "<provider>"]) }
        return Mirror(self, children: ["mechanism": mechanism, "username": username, "password": "<redacted>"])
    }

    /// How error messages name who logs in: `user "alice"`, or for OAUTHBEARER the token's
    /// principal when known.
    func subject(token: KafkaOAuthBearerToken?) -> String {
        guard mechanism == .oauthBearer else { return "user \"\(username)\"" }
        return token?.principalPhrase ?? "an OAUTHBEARER principal"
    }

    /// The protocol layer's exchange for these credentials; `token` for OAUTHBEARER.
    func exchange(clientNonce: String, token: KafkaOAuthBearerToken?) throws(SASLError) -> KafkaSASLExchange {
        switch mechanism {
        case .scramSHA256: try KafkaSASLExchange(.scram(.sha256, username: username, password: password), clientNonce: clientNonce)
        case .scramSHA512: try KafkaSASLExchange(.scram(.sha512, username: username, password: password), clientNonce: clientNonce)
        case .oauthBearer: try KafkaSASLExchange(.oauthBearer(token: token?.value ?? "", extensions: token?.extensions ?? [:]), clientNonce: clientNonce)
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
