/// The server's challenge to a client configured with NKEY or JWT credentials: sent by the
/// connection machine (`.authenticate`) once INFO (and TLS, if any) is done.
///
/// The driver answers with `credentialsProvided(_:attempt:now:)` or
/// `credentialsFailed(_:attempt:now:)`, passing `attempt` back so a late answer for an attempt
/// that has already been given up is ignored.
public struct NATSAuthenticationChallenge: Sendable, Equatable {
    /// The nonce from INFO, to be signed; nil when the server sent none (it does not use NKEYs).
    public var nonce: String?
    /// `host:port` of the server, for error messages.
    public var server: String
    /// The connection attempt this challenge belongs to.
    public var attempt: UInt64

    /// Creates a challenge.
    public init(nonce: String?, server: String, attempt: UInt64) {
        self.nonce = nonce
        self.server = server
        self.attempt = attempt
    }
}
