/// The connect handshake as a pure state machine: INFO → CONNECT + PING → PONG.
///
/// The driver feeds every frame it parses to `received(_:)` and performs the returned action.
public struct NATSHandshake: Sendable {
    /// Where the handshake is.
    public enum State: Sendable, Equatable {
        /// Waiting for the server's INFO.
        case awaitingInfo
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
        /// The server requires TLS, which this connection does not offer.
        case tlsRequired
        /// A frame that is not allowed during the handshake.
        case unexpected(NATSProtocolError)
    }

    /// What the driver must do.
    public enum Action: Sendable, Equatable {
        /// Nothing.
        case none
        /// Write these bytes.
        case write([UInt8])
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

    /// Creates a handshake that will send `connectOptions`.
    public init(connectOptions: NATSConnectOptions, usesTLS: Bool = false) {
        self.connectOptions = connectOptions
        self.usesTLS = usesTLS
    }

    /// Feeds one frame from the server.
    public mutating func received(_ op: NATSServerOp, offset: Int = 0) -> Action {
        switch (state, op) {
        case (.awaitingInfo, .info(let info)):
            if info.tlsRequired && !usesTLS {
                state = .failed
                return .fail(.tlsRequired)
            }
            var options = connectOptions
            options.headers = options.headers && info.headers
            options.noResponders = options.noResponders && options.headers
            options.tlsRequired = usesTLS
            var bytes: [UInt8] = []
            options.encode(into: &bytes)
            NATSEncoder.appendPing(into: &bytes)
            state = .awaitingPong(info)
            return .write(bytes)
        case (.awaitingPong(let info), .pong):
            state = .completed(info)
            return .completed(info)
        case (.awaitingPong, .info(let info)):
            state = .awaitingPong(info)
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
