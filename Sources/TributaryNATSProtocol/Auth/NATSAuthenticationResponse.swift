/// The credential fields of CONNECT: the user JWT, the NKEY public key and the nonce signature.
///
/// Its `description` names which fields are set and the public key, never the JWT or signature.
public struct NATSAuthenticationResponse: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The user JWT (CONNECT `jwt`), for JWT (operator mode) authentication.
    public var jwt: String?
    /// The user's public key (CONNECT `nkey`, `U…`).
    public var nkey: String?
    /// The nonce signature, base64url without padding (CONNECT `sig`); nil without a nonce.
    public var signature: String?
    /// Set by the driver when the JWT's expiry has passed by the local clock: a phrase such as
    /// "the user JWT expired 42 s ago (…)". A rejection by the server is then reported as
    /// `.authenticationExpired` with this phrase.
    public var jwtExpiredNote: String?

    /// Creates a response.
    public init(jwt: String? = nil, nkey: String? = nil, signature: String? = nil, jwtExpiredNote: String? = nil) {
        self.jwt = jwt
        self.nkey = nkey
        self.signature = signature
        self.jwtExpiredNote = jwtExpiredNote
    }

    /// The response of `keyPair` (and `jwt`, for JWT authentication) to `nonce`.
    public static func signing(nonce: String?, with keyPair: NATSNKeyPair, jwt: String? = nil) -> NATSAuthenticationResponse {
        NATSAuthenticationResponse(jwt: jwt, nkey: keyPair.publicKey, signature: nonce.map { keyPair.signNonce($0) })
    }

    public var description: String {
        var parts: [String] = []
        if jwt != nil { parts.append("jwt: <redacted>") }
        if let nkey { parts.append("nkey: \(nkey)") }
        if signature != nil { parts.append("sig: <redacted>") }
        return "NATSAuthenticationResponse(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }
}
