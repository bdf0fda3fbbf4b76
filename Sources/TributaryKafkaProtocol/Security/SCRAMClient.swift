import TributaryCrypto

/// The client side of SCRAM (RFC 5802) with SHA-256 or SHA-512 (RFC 7677), as Kafka uses it
/// (KIP-84): no channel binding (gs2 header `n,,`), no authorization identity.
///
/// A pure state machine: it never reads a clock or a random source. The driver passes the client
/// nonce in (from a secure random source, see ``makeNonce(randomBytes:)``), sends what
/// ``start()`` returns, feeds the server's first message to ``serverFirstReceived(_:)``, sends
/// the client-final message it returns, and feeds the server's final message to
/// ``serverFinalReceived(_:)``, which succeeds only when the server proved it knows the password
/// too (its signature is compared in constant time).
///
/// ```
/// client-first   n,,n=<saslname>,r=<client nonce>
/// server-first   r=<client nonce><server nonce>,s=<base64 salt>,i=<iterations>
/// client-final   c=biws,r=<nonce>,p=<base64 proof>
/// server-final   v=<base64 server signature>   or   e=<error>
/// ```
///
/// The password, the salted password and the keys derived from it are overwritten once they are
/// no longer needed, and never appear in errors or descriptions.
public struct SCRAMClient: Sendable, CustomStringConvertible {
    /// The hash function of the mechanism.
    public enum Mechanism: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// `SCRAM-SHA-256` (RFC 7677).
        case sha256 = "SCRAM-SHA-256"
        /// `SCRAM-SHA-512`.
        case sha512 = "SCRAM-SHA-512"

        /// The IANA name, as sent in SaslHandshake.
        public var name: String { rawValue }
        public var description: String { rawValue }
    }

    /// The fewest iterations accepted from a server: 4096, the minimum RFC 7677 sets and Kafka's
    /// own client enforces (`ScramMechanism.minIterations`). Fewer make offline guessing of the
    /// password from a captured exchange cheap.
    public static let minimumIterations = 4096
    /// The most iterations accepted from a server by default: 65,536. Kafka brokers store SCRAM
    /// credentials with at most 16,384 iterations; a count far above that is a hostile or broken
    /// server making the client burn CPU, and is refused.
    public static let defaultMaximumIterations = 65_536
    /// The longest server message accepted, in bytes. Real ones are about 100 bytes.
    public static let maximumServerMessageSize = 4096

    private enum State {
        case initial
        case sentClientFirst
        case sentClientFinal(serverSignature: [UInt8])
        case authenticated
        case failed
    }

    /// The mechanism this exchange uses.
    public let mechanism: Mechanism
    private let minimumIterationsAccepted: Int
    private let maximumIterations: Int
    private let clientNonce: String
    private let clientFirstBare: String
    private var password: [UInt8]
    private var state = State.initial

    /// Prepares an exchange for `username` and `password` with `clientNonce`.
    ///
    /// The user name is escaped as RFC 5802 asks (`=` → `=3D`, `,` → `=2C`). The password is used
    /// as its UTF-8 bytes without SASLprep, as Kafka's Java client and librdkafka do; for ASCII
    /// passwords the two agree.
    ///
    /// - Throws: ``SASLError`` `invalidInput` when the nonce is empty or holds characters other
    ///   than printable ASCII without `,`, or the user name is empty or holds a NUL.
    public init(mechanism: Mechanism, username: String, password: String, clientNonce: String,
                maximumIterations: Int = SCRAMClient.defaultMaximumIterations) throws(SASLError) {
        try self.init(mechanism: mechanism, username: username, password: password, clientNonce: clientNonce,
                      acceptedIterations: Self.minimumIterations...max(maximumIterations, Self.minimumIterations))
    }

    /// Accepts iteration counts in `acceptedIterations`, whose lower end may be below
    /// ``minimumIterations``. Only for fuzzing, where 4,096 PBKDF2 rounds per accepted message
    /// would spend nearly all the time in the hash rather than in the parsing under test.
    init(mechanism: Mechanism, username: String, password: String, clientNonce: String,
         acceptedIterations: ClosedRange<Int>) throws(SASLError) {
        guard !clientNonce.isEmpty, clientNonce.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: ",") }) else {
            throw .invalidInput("the client nonce must be printable ASCII without ','")
        }
        guard !username.isEmpty, !username.utf8.contains(0) else {
            throw .invalidInput("the user name must not be empty or contain NUL")
        }
        self.mechanism = mechanism
        self.minimumIterationsAccepted = max(acceptedIterations.lowerBound, 1)
        self.maximumIterations = max(acceptedIterations.upperBound, self.minimumIterationsAccepted)
        self.clientNonce = clientNonce
        self.clientFirstBare = "n=" + Self.saslName(username) + ",r=" + clientNonce
        self.password = Array(password.utf8)
    }

    /// A client nonce from `randomBytes` (take at least 18 from a secure random source): their
    /// base64 text, which is printable and holds no `,`.
    public static func makeNonce(randomBytes: [UInt8]) -> String {
        SCRAMBase64.encode(randomBytes)
    }

    /// RFC 5802 §5.1: `=` becomes `=3D` and `,` becomes `=2C`.
    public static func saslName(_ name: String) -> String {
        var escaped = ""
        for character in name.unicodeScalars {
            switch character {
            case "=": escaped += "=3D"
            case ",": escaped += "=2C"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Whether the client-first message was sent and the server-first message is awaited.
    var awaitsServerFirst: Bool {
        if case .sentClientFirst = state { return true }
        return false
    }

    /// Whether the server has proved itself and the exchange is complete.
    public var isAuthenticated: Bool {
        if case .authenticated = state { return true }
        return false
    }

    /// The client-first message: the gs2 header `n,,` and the bare message.
    ///
    /// - Throws: ``SASLError`` `outOfOrder` when called twice.
    public mutating func start() throws(SASLError) -> [UInt8] {
        guard case .initial = state else { throw .outOfOrder("the client-first message was already sent") }
        state = .sentClientFirst
        return Array(("n,," + clientFirstBare).utf8)
    }

    /// Takes the server-first message and returns the client-final message with the proof.
    ///
    /// - Throws: ``SASLError``: `malformedServerMessage` (not `r=…,s=…,i=…`, bad base64, a
    ///   mandatory extension), `nonceMismatch` (the nonce does not start with ours or adds
    ///   nothing), `iterationCountTooLow` / `iterationCountTooHigh`, `serverError` (`e=`),
    ///   `outOfOrder`. The exchange is over after any error.
    public mutating func serverFirstReceived(_ message: [UInt8]) throws(SASLError) -> [UInt8] {
        guard case .sentClientFirst = state else { throw .outOfOrder("a server-first message arrived before the client-first message was sent or after it was answered") }
        state = .failed
        let text = try Self.text(message, what: "server-first")
        let attributes = try Self.attributes(text, what: "server-first")
        if let error = attributes.first(where: { $0.key == "e" }) { throw .serverError(String(error.value)) }
        guard attributes.count >= 3 else {
            throw .malformedServerMessage("the server-first message has \(attributes.count) attribute(s); expected r=, s= and i=")
        }
        if attributes[0].key == "m" { throw .malformedServerMessage("the server-first message requires an extension (m=) this client does not know") }
        guard attributes[0].key == "r", attributes[1].key == "s", attributes[2].key == "i" else {
            throw .malformedServerMessage("the server-first message starts with \(attributes.prefix(3).map { "\($0.key)=" }.joined(separator: ",")); expected r=,s=,i=")
        }
        let nonce = attributes[0].value
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count,
              nonce.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: ",") }) else {
            throw .nonceMismatch
        }
        guard let salt = SCRAMBase64.decode(attributes[1].value), !salt.isEmpty else {
            throw .malformedServerMessage("the salt (s=) is not non-empty base64")
        }
        let iterationText = attributes[2].value
        guard !iterationText.isEmpty, iterationText.count <= 10, iterationText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let iterations = Int(iterationText) else {
            throw .malformedServerMessage("the iteration count (i=) is not a decimal number")
        }
        guard iterations >= minimumIterationsAccepted else { throw .iterationCountTooLow(iterations, minimum: minimumIterationsAccepted) }
        guard iterations <= maximumIterations else { throw .iterationCountTooHigh(iterations, maximum: maximumIterations) }

        let withoutProof = "c=biws,r=" + nonce   // biws: base64 of the gs2 header "n,,"
        let authMessage = Array((clientFirstBare + "," + text + "," + withoutProof).utf8)
        var proof: [UInt8]
        let serverSignature: [UInt8]
        switch mechanism {
        case .sha256: (proof, serverSignature) = Self.prove(SHA256.self, password: &password, salt: salt, iterations: iterations, authMessage: authMessage)
        case .sha512: (proof, serverSignature) = Self.prove(SHA512.self, password: &password, salt: salt, iterations: iterations, authMessage: authMessage)
        }
        let final = Array((withoutProof + ",p=" + SCRAMBase64.encode(proof)).utf8)
        SecretBytes.wipe(&proof)
        state = .sentClientFinal(serverSignature: serverSignature)
        return final
    }

    /// Takes the server-final message and checks the server's signature.
    ///
    /// - Throws: ``SASLError`` `serverError` for `e=…`, `serverSignatureMismatch` when the
    ///   server does not know the password (or the exchange was tampered with),
    ///   `malformedServerMessage`, `outOfOrder`.
    public mutating func serverFinalReceived(_ message: [UInt8]) throws(SASLError) {
        guard case .sentClientFinal(let expected) = state else { throw .outOfOrder("a server-final message arrived before the client-final message was sent") }
        state = .failed
        let text = try Self.text(message, what: "server-final")
        let attributes = try Self.attributes(text, what: "server-final")
        guard let first = attributes.first else { throw .malformedServerMessage("the server-final message is empty") }
        if first.key == "e" { throw .serverError(String(first.value)) }
        guard first.key == "v", let signature = SCRAMBase64.decode(first.value) else {
            throw .malformedServerMessage("the server-final message is not v=<base64 signature> or e=<error>")
        }
        guard SecretBytes.constantTimeEqual(signature, expected) else { throw .serverSignatureMismatch }
        state = .authenticated
    }

    /// Redacted: names the mechanism and the state, never the user's secrets.
    public var description: String {
        let phase = switch state {
        case .initial: "initial"
        case .sentClientFirst: "sent client-first"
        case .sentClientFinal: "sent client-final"
        case .authenticated: "authenticated"
        case .failed: "failed"
        }
        return "SCRAMClient(\(mechanism), \(phase), password: <redacted>)"
    }

    // MARK: - Helpers

    /// ClientProof and ServerSignature (RFC 5802 §3); wipes the password and every intermediate
    /// key.
    private static func prove<H: HashFunction>(_: H.Type, password: inout [UInt8], salt: [UInt8], iterations: Int,
                                               authMessage: [UInt8]) -> (proof: [UInt8], serverSignature: [UInt8]) {
        var salted = PBKDF2<H>.derive(password: password, salt: salt, iterations: iterations, length: H.digestSize)
        SecretBytes.wipe(&password)
        var clientKey = HMAC<H>.authenticationCode(key: salted, message: Array("Client Key".utf8))
        var storedKey = H.hash(clientKey)
        var clientSignature = HMAC<H>.authenticationCode(key: storedKey, message: authMessage)
        var proof = clientKey
        for index in proof.indices { proof[index] ^= clientSignature[index] }
        var serverKey = HMAC<H>.authenticationCode(key: salted, message: Array("Server Key".utf8))
        let serverSignature = HMAC<H>.authenticationCode(key: serverKey, message: authMessage)
        SecretBytes.wipe(&salted)
        SecretBytes.wipe(&clientKey)
        SecretBytes.wipe(&storedKey)
        SecretBytes.wipe(&clientSignature)
        SecretBytes.wipe(&serverKey)
        return (proof, serverSignature)
    }

    private static func text(_ message: [UInt8], what: String) throws(SASLError) -> String {
        guard !message.isEmpty else { throw .malformedServerMessage("the \(what) message is empty") }
        guard message.count <= maximumServerMessageSize else {
            throw .malformedServerMessage("the \(what) message is \(message.count) bytes; at most \(maximumServerMessageSize) are accepted")
        }
        guard let text = String(validating: message, as: UTF8.self) else {
            throw .malformedServerMessage("the \(what) message is not UTF-8")
        }
        return text
    }

    /// `k=value` pairs separated by `,`; keys are one ASCII letter.
    private static func attributes(_ text: String, what: String) throws(SASLError) -> [(key: Character, value: Substring)] {
        var result: [(key: Character, value: Substring)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard part.count >= 2, let key = part.first, key.isASCII, key.isLetter,
                  part[part.index(after: part.startIndex)] == "=" else {
                throw .malformedServerMessage("the \(what) message has an attribute that is not k=value (attribute \(result.count + 1))")
            }
            result.append((key, part.dropFirst(2)))
        }
        return result
    }
}

/// Why a SASL exchange (SCRAM, PLAIN or OAUTHBEARER) could not go on. Descriptions say what went wrong and what to
/// do; they never contain the password, the token or anything derived from them.
public enum SASLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The caller's input cannot be used (empty user name, a nonce with `,`).
    case invalidInput(String)
    /// A server message does not have the form RFC 5802 gives it.
    case malformedServerMessage(String)
    /// The server's nonce does not start with the client's, or adds nothing to it.
    case nonceMismatch
    /// The server asked for fewer iterations than the minimum.
    case iterationCountTooLow(Int, minimum: Int)
    /// The server asked for more iterations than the maximum.
    case iterationCountTooHigh(Int, maximum: Int)
    /// The server ended the exchange with an `e=` attribute (for example `invalid-proof`,
    /// `unknown-user`).
    case serverError(String)
    /// The server's signature does not match: it does not know the password.
    case serverSignatureMismatch
    /// The driver fed messages in the wrong order.
    case outOfOrder(String)
    /// The broker refused an OAUTHBEARER token with an error challenge (RFC 7628 §3.2.2); the
    /// challenge's `status` (for example `invalid_token`), nil when it had none.
    case tokenRejected(status: String?)

    public var description: String {
        switch self {
        case .invalidInput(let detail):
            "SASL cannot start: \(detail)"
        case .malformedServerMessage(let detail):
            "SCRAM: \(detail); the broker does not speak SCRAM as RFC 5802 describes it (check that the address is a Kafka SASL listener)"
        case .nonceMismatch:
            "SCRAM: the server's nonce does not extend the client's; the exchange may have been tampered with or replayed, so the client stopped"
        case .iterationCountTooLow(let count, let minimum):
            "SCRAM: the server asked for \(count) iterations, fewer than the minimum \(minimum); store the user's credentials on the broker with at least \(minimum) iterations"
        case .iterationCountTooHigh(let count, let maximum):
            "SCRAM: the server asked for \(count) iterations, more than the \(maximum) this client accepts; store the user's credentials with fewer iterations (Kafka allows at most 16384)"
        case .serverError(let value):
            "SCRAM: the server ended the exchange with error '\(value)'; check the user name and password"
        case .serverSignatureMismatch:
            "SCRAM: the server's signature does not match, so it does not know this user's password; the client does not trust this broker"
        case .outOfOrder(let detail):
            "SASL: \(detail)"
        case .tokenRejected(let status):
            "OAUTHBEARER: the broker rejected the token with status '\(status ?? "none given")'; check that the token provider returns a current token the broker accepts (issuer, audience, scope, expiry)"
        }
    }
}
