/// One SASL authentication of a Kafka connection, mechanism by mechanism, as a pure state
/// machine: it says which token to send in each SaslAuthenticate request and checks what the
/// broker answers. The driver sends SaslHandshake with ``mechanismName`` first (KIP-152).
///
/// ```
/// PLAIN        start() → "\0user\0password"      responseReceived(empty) → nil (done)
/// SCRAM        start() → client-first             responseReceived(server-first) → client-final
///                                                 responseReceived(server-final) → nil (done)
/// OAUTHBEARER  start() → "n,,\x01auth=Bearer …"   responseReceived(empty) → nil (done)
///                                                 responseReceived(error JSON) → "\x01"; the broker
///                                                 then fails the request (SASL_AUTHENTICATION_FAILED)
/// ```
///
/// After an OAUTHBEARER error challenge, ``rejection`` holds the challenge's status, so the
/// driver can name it when the broker's failure arrives.
public struct KafkaSASLExchange: Sendable, CustomStringConvertible {
    /// The mechanism and the credentials to prove.
    public enum Mechanism: Sendable {
        /// SASL PLAIN.
        case plain(username: String, password: String)
        /// SCRAM with SHA-256 or SHA-512.
        case scram(SCRAMClient.Mechanism, username: String, password: String)
        /// OAUTHBEARER (RFC 7628, KIP-255) with a bearer token and SASL extensions (KIP-342).
        case oauthBearer(token: String, extensions: [String: String])
    }

    private enum State {
        case plain(initial: [UInt8])
        case scram(SCRAMClient)
        case sentPlain
        case oauthBearer(initial: [UInt8])
        case sentBearer
        /// The broker sent an error challenge and the client answered `%x01`.
        case bearerRejected(SASLError)
        case done
    }

    /// The IANA name of the mechanism, for SaslHandshake.
    public let mechanismName: String
    private var state: State

    /// Prepares an exchange. `clientNonce` is used by SCRAM only; pass one made with
    /// ``SCRAMClient/makeNonce(randomBytes:)`` from a secure random source.
    ///
    /// - Throws: ``SASLError`` `invalidInput` for credentials the mechanism cannot carry.
    public init(_ mechanism: Mechanism, clientNonce: String) throws(SASLError) {
        switch mechanism {
        case .plain(let username, let password):
            mechanismName = SASLPlain.name
            state = .plain(initial: try SASLPlain.initialResponse(username: username, password: password))
        case .scram(let hash, let username, let password):
            mechanismName = hash.name
            state = .scram(try SCRAMClient(mechanism: hash, username: username, password: password, clientNonce: clientNonce))
        case .oauthBearer(let token, let extensions):
            mechanismName = SASLOAuthBearer.name
            state = .oauthBearer(initial: try SASLOAuthBearer.initialResponse(token: token, extensions: extensions))
        }
    }

    /// The first token to send.
    ///
    /// - Throws: ``SASLError`` `outOfOrder` when called twice.
    public mutating func start() throws(SASLError) -> [UInt8] {
        switch state {
        case .plain(let initial):
            state = .sentPlain
            return initial
        case .oauthBearer(let initial):
            state = .sentBearer
            return initial
        case .scram(var client):
            let token = try client.start()
            state = .scram(client)
            return token
        case .sentPlain, .sentBearer, .bearerRejected, .done:
            throw .outOfOrder("the exchange was already started")
        }
    }

    /// Takes the broker's token from a successful SaslAuthenticate response and returns the next
    /// token to send, or nil when authentication is complete.
    ///
    /// - Throws: ``SASLError`` from the mechanism (a bad SCRAM message or server signature;
    ///   `tokenRejected` when a broker accepts the `%x01` that ends a rejected OAUTHBEARER
    ///   exchange, which RFC 7628 does not allow).
    public mutating func responseReceived(_ token: [UInt8]) throws(SASLError) -> [UInt8]? {
        switch state {
        case .sentBearer:
            if token.isEmpty {
                state = .done
                return nil
            }
            // RFC 7628 §3.2.2: a non-empty server message is an error challenge. The client must
            // answer with a lone kvsep; the broker then fails the exchange.
            state = .bearerRejected(.tokenRejected(status: SASLOAuthBearer.status(ofChallenge: token)))
            return [SASLOAuthBearer.separator]
        case .bearerRejected(let error):
            throw error
        case .sentPlain:
            // PLAIN has no server token; the broker's success is the answer.
            state = .done
            return nil
        case .scram(var client):
            state = .done
            if client.isAuthenticated { throw .outOfOrder("the SCRAM exchange is already complete") }
            if case let next? = try client.nextToken(for: token) {
                state = .scram(client)
                return next
            }
            return nil
        case .plain, .oauthBearer, .done:
            throw .outOfOrder("a SaslAuthenticate response arrived while no token was outstanding")
        }
    }

    /// Why the broker refused the credentials, when it said so inside the exchange (an
    /// OAUTHBEARER error challenge, `tokenRejected` with the challenge's status); nil otherwise.
    public var rejection: SASLError? {
        if case .bearerRejected(let error) = state { return error }
        return nil
    }

    /// Whether the broker accepted the credentials (and, for SCRAM, proved it knows them).
    public var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Names the mechanism only.
    public var description: String { "KafkaSASLExchange(\(mechanismName), credentials: <redacted>)" }
}

extension SCRAMClient {
    /// The next token for the server's `token`: the client-final message after the server-first
    /// message, nil after a verified server-final message.
    mutating func nextToken(for token: [UInt8]) throws(SASLError) -> [UInt8]? {
        if awaitsServerFirst { return try serverFirstReceived(token) }
        try serverFinalReceived(token)
        return nil
    }
}

