/// The SASL PLAIN mechanism (RFC 4616): one message, `authzid NUL authcid NUL password`, with an
/// empty authorization identity, as Kafka's clients send it. PLAIN sends the password itself:
/// use it only over TLS, or on networks you trust.
public enum SASLPlain {
    /// The mechanism name, as sent in SaslHandshake.
    public static let name = "PLAIN"

    /// The initial (and only) client message: `\0username\0password`.
    ///
    /// - Throws: ``SASLError`` `invalidInput` when the user name is empty or either value holds
    ///   a NUL, which would shift the fields.
    public static func initialResponse(username: String, password: String) throws(SASLError) -> [UInt8] {
        guard !username.isEmpty, !username.utf8.contains(0) else {
            throw .invalidInput("the PLAIN user name must not be empty or contain NUL")
        }
        guard !password.utf8.contains(0) else { throw .invalidInput("the PLAIN password must not contain NUL") }
        return [0] + Array(username.utf8) + [0] + Array(password.utf8)
    }
}
