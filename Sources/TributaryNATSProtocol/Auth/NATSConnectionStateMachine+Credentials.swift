import TributaryWire

// The credential step of the connection machine: between INFO (and TLS) and CONNECT, the
// driver loads the configured NKEY or JWT credentials and signs the server's nonce. File reads
// and user callbacks happen in the driver; the machine only asks and waits.

extension NATSConnectionStateMachine {
    func challenge(_ c: Connecting, nonce: String?) -> NATSAuthenticationChallenge {
        NATSAuthenticationChallenge(nonce: nonce, server: pool[c.server].address.endpoint, attempt: c.attempt)
    }

    /// The driver's answer to `.authenticate` for `attempt`: CONNECT goes out with `response`.
    /// Ignored when that attempt is over (timed out, failed, or the client closed).
    public mutating func credentialsProvided(_ response: NATSAuthenticationResponse, attempt: UInt64,
                                             now: MonotonicInstant) -> [Action] {
        guard case .connecting(var c) = phase, c.attempt == attempt, var handshake = c.handshake,
              case .awaitingCredentials = handshake.state else { return [] }
        let step = handshake.credentialsProvided(response)
        c.handshake = handshake
        c.sentCredentials = NATSAuthenticationResponse(jwt: response.jwt == nil ? nil : "", nkey: response.nkey,
                                                       jwtExpiredNote: response.jwtExpiredNote)
        phase = .connecting(c)
        if case .write(let bytes) = step { return [.writeHandshake(bytes)] }
        return []
    }

    /// The credentials for `attempt` could not be loaded or signed: this attempt fails with
    /// `error` (the next server, or a reconnect after the wait, tries again and reads them anew).
    public mutating func credentialsFailed(_ error: NATSError, attempt: UInt64, now: MonotonicInstant) -> [Action] {
        guard case .connecting(let c) = phase, c.attempt == attempt, let handshake = c.handshake,
              case .awaitingCredentials = handshake.state else { return [] }
        var failure = error
        if failure.server == nil { failure.server = pool[c.server].address.endpoint }
        return [.closeStream] + connectFailed(failure, now: now)
    }

    /// The error for an 'Authorization Violation' during the handshake, saying which credentials
    /// were refused and what usually causes it. `sent` holds no secrets (the JWT is blanked).
    func rejection(text: String, endpoint: String, sent: NATSAuthenticationResponse?) -> NATSError {
        guard let sent else {
            var error = NATSError.from(serverError: text, server: endpoint)
            error.message = "server \(endpoint) rejected the credentials (Authorization Violation); check the user/password or token in the URL or options"
            return error
        }
        if sent.jwt != nil {
            if let note = sent.jwtExpiredNote {
                return NATSError(.authenticationExpired,
                                 "server \(endpoint) rejected the user JWT (Authorization Violation): \(note); renew the credentials (a new creds file is read on the next attempt)",
                                 server: endpoint, serverText: text)
            }
            let who = sent.nkey.map { " of user \($0)" } ?? ""
            return NATSError(.authorizationViolation,
                             "server \(endpoint) rejected the user JWT\(who) (Authorization Violation): the JWT may be expired or revoked, signed by an account this server does not know, or not match the seed; check the credentials and the server's operator and account configuration",
                             server: endpoint, serverText: text)
        }
        let who = sent.nkey.map { " \($0)" } ?? ""
        return NATSError(.authorizationViolation,
                         "server \(endpoint) rejected the NKEY\(who) (Authorization Violation): the server has no nkey user with this public key, or the seed does not belong to it; check the seed and the server's authorization users",
                         server: endpoint, serverText: text)
    }
}
