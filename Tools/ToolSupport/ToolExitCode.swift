import TributaryNATS

/// The exit status of the nats-* tools.
///
/// - 0 `success`: the command did what it was asked (also after Ctrl-C / SIGTERM).
/// - 1 `usage`: a command-line mistake (unknown flag, missing argument, bad value), one line
///   on stderr plus a `--help` hint.
/// - 1 `failure`: an operation failed while the connection was fine (request timeout, no
///   responders, invalid subject, payload over max_payload, a JetStream API error, a `--dump`
///   file that cannot be written).
/// - 2 `connection`: the server could not be reached, TLS or the credentials failed, or the
///   connection was lost with messages unconfirmed.
///
/// Every nats-* tool (and nats-bench) uses these codes; the README has the table.
public struct ToolExitCode: Sendable, Hashable, CustomStringConvertible {
    /// The value passed to `exit`.
    public var rawValue: Int32

    /// Creates an exit code from its numeric value.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// 0: success.
    public static let success = ToolExitCode(rawValue: 0)
    /// 1: usage error or runtime failure with a healthy connection.
    public static let failure = ToolExitCode(rawValue: 1)
    /// 1: usage error (same value as `failure`, named for clarity at call sites).
    public static let usage = ToolExitCode(rawValue: 1)
    /// 2: connection or authentication failure, or connection lost.
    public static let connection = ToolExitCode(rawValue: 2)

    /// The exit code for a client error: `connection` when the connection is unusable or data
    /// was lost with it, `failure` otherwise.
    public static func forError(_ error: NATSError) -> ToolExitCode {
        switch error.code {
        case .connectionFailed, .authorizationViolation, .authenticationExpired, .authenticationRevoked,
             .invalidCredentials, .tlsRequired, .tlsVerificationFailed, .tlsClientCertificateRejected,
             .tlsHandshakeFailed, .tlsHandshakeTimeout, .connectionClosed, .disconnected, .staleConnection,
             .messagesLost, .protocolError, .reconnectBufferExceeded:
            return .connection
        default:
            return .failure
        }
    }

    public var description: String { String(rawValue) }
}
