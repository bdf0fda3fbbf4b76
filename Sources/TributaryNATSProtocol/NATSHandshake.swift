/// The connect handshake as a pure state machine: INFO → (TLS upgrade) → (credentials) →
/// CONNECT + PING → PONG.
///
/// The driver feeds every frame it parses to `received(_:)` and performs the returned action.
/// When TLS is wanted (a `tls://` URL or TLS options) or the server requires it, INFO is answered
/// with `.startTLS`; the driver runs the TLS handshake and calls `tlsEstablished()`, which sends
/// CONNECT over the encrypted stream. With TLS-first, the stream is already encrypted when INFO
/// arrives (`usesTLS`). With NKEY or JWT credentials (`requiresCredentials`), the handshake then
/// asks for them with `.authenticate(nonce:)`; the driver signs the nonce and calls
/// `credentialsProvided(_:)`, which sends CONNECT with `jwt`, `nkey` and `sig`.
public struct NATSHandshake: Sendable {
    /// Where the handshake is.
    public enum State: Sendable, Equatable {
        /// Waiting for the server's INFO.
        case awaitingInfo
        /// INFO arrived; waiting for the driver to finish the TLS handshake.
        case awaitingTLS(NATSServerInfo)
        /// Waiting for the driver's credentials (the signed nonce).
        case awaitingCredentials(NATSServerInfo)
        /// CONNECT and PING sent; waiting for PONG (or -ERR).
        case awaitingPong(NATSServerInfo)
        /// PONG arrived: the connection is ready.
        case completed(NATSServerInfo)
        /// The handshake failed; the connection must be closed.
        case failed
    }

    /// Why a handshake failed.
    public enum Failure: Sendable, Equatable {
        /// The server answered -ERR (for example 'Authorization Violation').
        case serverError(String)
        /// TLS was asked for, but the server offers none.
        case tlsUnavailable
        /// A frame that is not allowed during the handshake.
        case unexpected(NATSProtocolError)
    }

    /// What the driver must do.
    public enum Action: Sendable, Equatable {
        /// Nothing.
        case none
        /// Write these bytes.
        case write([UInt8])
        /// Run the TLS handshake on the stream, then call `tlsEstablished()`.
        case startTLS
        /// Load the credentials and sign `nonce` (nil: the server sent none, nothing to sign),
        /// then call `credentialsProvided(_:)`.
        case authenticate(nonce: String?)
        /// The handshake is complete.
        case completed(NATSServerInfo)
        /// Close the connection with this failure.
        case fail(Failure)
    }

    /// The current state.
    public private(set) var state: State = .awaitingInfo
    /// The CONNECT options to send; `headers` is switched off when the server lacks header support.
    public var connectOptions: NATSConnectOptions
    /// Whether this connection runs over TLS.
    public var usesTLS: Bool
    /// Whether the client asked for TLS (`tls://` or TLS options): a server without TLS fails.
    public var wantsTLS: Bool
    /// Whether NKEY or JWT credentials are configured: CONNECT waits for `credentialsProvided(_:)`.
    public var requiresCredentials: Bool

    /// Creates a handshake that will send `connectOptions`.
    public init(connectOptions: NATSConnectOptions, usesTLS: Bool = false, wantsTLS: Bool = false,
                requiresCredentials: Bool = false) {
        self.connectOptions = connectOptions
        self.usesTLS = usesTLS
        self.wantsTLS = wantsTLS || usesTLS
        self.requiresCredentials = requiresCredentials
    }

    /// The driver finished the TLS handshake that `.startTLS` asked for: CONNECT goes out (or
    /// the credentials are asked for first).
    public mutating func tlsEstablished() -> Action {
        guard case .awaitingTLS(let info) = state else { return .none }
        usesTLS = true
        return authenticateOrConnect(info)
    }

    /// The driver's answer to `.authenticate`: CONNECT goes out with these credential fields.
    public mutating func credentialsProvided(_ response: NATSAuthenticationResponse) -> Action {
        guard case .awaitingCredentials(let info) = state else { return .none }
        connectOptions.jwt = response.jwt
        connectOptions.nkey = response.nkey
        connectOptions.sig = response.signature
        return sendConnect(info)
    }

    private mutating func authenticateOrConnect(_ info: NATSServerInfo) -> Action {
        guard requiresCredentials else { return sendConnect(info) }
        state = .awaitingCredentials(info)
        return .authenticate(nonce: info.nonce)
    }

    private mutating func sendConnect(_ info: NATSServerInfo) -> Action {
        var options = connectOptions
        options.headers = options.headers && info.headers
        options.noResponders = options.noResponders && options.headers
        options.tlsRequired = usesTLS
        var bytes: [UInt8] = []
        options.encode(into: &bytes)
        NATSEncoder.appendPing(into: &bytes)
        state = .awaitingPong(info)
        return .write(bytes)
    }

    /// Feeds one frame from the server.
    public mutating func received(_ op: NATSServerOp, offset: Int = 0) -> Action {
        switch (state, op) {
        case (.awaitingInfo, .info(let info)):
            if usesTLS { return authenticateOrConnect(info) }
            if wantsTLS && !info.tlsRequired && !info.tlsAvailable {
                state = .failed
                return .fail(.tlsUnavailable)
            }
            if wantsTLS || info.tlsRequired {
                state = .awaitingTLS(info)
                return .startTLS
            }
            return authenticateOrConnect(info)
        case (.awaitingPong(let info), .pong):
            state = .completed(info)
            return .completed(info)
        case (.awaitingPong, .info(let info)):
            state = .awaitingPong(info)
            return .none
        case (.awaitingCredentials, .info(let info)):
            // The nonce asked for is the one of the first INFO; later INFOs only update the rest.
            state = .awaitingCredentials(info)
            return .none
        case (_, .ping):
            var bytes: [UInt8] = []
            NATSEncoder.appendPong(into: &bytes)
            return .write(bytes)
        case (_, .ok):
            return .none
        case (_, .err(let text)):
            state = .failed
            return .fail(.serverError(text))
        case (.completed, _), (.failed, _):
            return .none
        default:
            state = .failed
            return .fail(.unexpected(NATSProtocolError(code: .unexpectedFrame,
                                                       message: "expected \(state == .awaitingInfo ? "INFO" : "PONG") during the connect handshake, found \(Self.name(of: op))",
                                                       offset: offset)))
        }
    }

    static func name(of op: NATSServerOp) -> String {
        switch op {
        case .info: return "INFO"
        case .msg: return "MSG"
        case .ping: return "PING"
        case .pong: return "PONG"
        case .ok: return "+OK"
        case .err: return "-ERR"
        }
    }
}
