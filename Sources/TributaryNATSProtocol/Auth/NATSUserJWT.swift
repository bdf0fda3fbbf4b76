import TributaryWire

/// The claims of a NATS user JWT that a client can use before sending it: whose it is, who
/// signed it and when it expires. The signature is not checked (the server does that).
public struct NATSUserJWT: Sendable, Equatable {
    /// The user's public key (`sub`, `U…`): the JWT belongs to the seed with this public key.
    public var subject: String
    /// The public key that signed the JWT (`iss`: the account or one of its signing keys).
    public var issuer: String?
    /// The user's name (`name`), if any.
    public var name: String?
    /// Expiry in seconds since 1970 (`exp`), if the JWT expires.
    public var expires: Int64?
    /// Issue time in seconds since 1970 (`iat`).
    public var issuedAt: Int64?

    /// Reads the claims of `jwt`.
    ///
    /// - Throws: `.invalidCredentials` when it is not a JWT, its payload is not JSON, or its
    ///   subject is not a user public key. The message never contains the JWT.
    public init(parsing jwt: String) throws(NATSError) {
        try NATSCredentialsFile.checkJWTShape(jwt, what: "the user JWT")
        let parts = jwt.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard let payload = NATSBase64URL.decode(parts[1]) else {
            throw NATSError(.invalidCredentials, "the user JWT's payload is not base64url")
        }
        guard let claims = try? payload.withUnsafeBytes({ raw in try JSONValue.parse(raw) }) else {
            throw NATSError(.invalidCredentials, "the user JWT's payload is not JSON; check that the JWT was copied whole")
        }
        guard let subject = claims["sub"]?.stringValue, !subject.isEmpty else {
            throw NATSError(.invalidCredentials, "the user JWT has no subject ('sub'): it is not a NATS user JWT")
        }
        guard let key = try? NATSNKey.decodePublicKey(subject), key.type == NATSNKeyType.user else {
            throw NATSError(.invalidCredentials,
                            "the JWT's subject '\(subject)' is not a user public key (U…): this is not a user JWT (an operator or account JWT cannot connect)")
        }
        self.subject = subject
        issuer = claims["iss"]?.stringValue
        name = claims["name"]?.stringValue
        expires = Self.seconds(claims["exp"])
        issuedAt = Self.seconds(claims["iat"])
    }

    /// A positive whole number of seconds (JWTs write 0 or nothing for "never").
    static func seconds(_ value: JSONValue?) -> Int64? {
        guard case .number(let text)? = value, let seconds = Int64(text), seconds > 0 else { return nil }
        return seconds
    }

    /// A phrase for error messages when the JWT has expired at `now` (seconds since 1970), else nil.
    public func expiryNote(now: Int64) -> String? {
        guard let expires, expires <= now else { return nil }
        return "the user JWT expired \(now - expires) s ago (exp \(expires), by this machine's clock)"
    }
}
