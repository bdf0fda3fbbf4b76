import TributaryWire


/// The error type of the NATS client: a code callers can switch on, a message that says what
/// went wrong and what to do, and context (server, subject).
public struct NATSError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure. Extensible: new codes are added as static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        /// No server could be reached (refused, DNS failure, timeout).
        public static let connectionFailed = Code("connectionFailed")
        /// The server rejected the credentials ('Authorization Violation').
        public static let authorizationViolation = Code("authorizationViolation")
        /// The server's authentication expired or timed out, or the user JWT expired.
        public static let authenticationExpired = Code("authenticationExpired")
        /// The account revoked this user's credentials ('User Authentication Revoked').
        public static let authenticationRevoked = Code("authenticationRevoked")
        /// The configured NKEY or JWT credentials could not be used: a file that cannot be read,
        /// a malformed creds file, seed or JWT, or a signing callback that failed. The message says
        /// which and never contains the seed or the JWT.
        public static let invalidCredentials = Code("invalidCredentials")
        /// The server refused a publish or subscribe by permissions; the connection stays up.
        public static let permissionViolation = Code("permissionViolation")
        /// Payload plus headers exceed the server's max_payload.
        public static let maxPayloadExceeded = Code("maxPayloadExceeded")
        /// An invalid subject (empty, whitespace, empty token, misplaced wildcard).
        public static let invalidSubject = Code("invalidSubject")
        /// An invalid queue group name.
        public static let invalidQueue = Code("invalidQueue")
        /// Header names or values that cannot be sent.
        public static let invalidHeaders = Code("invalidHeaders")
        /// A request, flush or drain did not complete in time.
        public static let timeout = Code("timeout")
        /// A request reached no subscriber (status 503).
        public static let noResponders = Code("noResponders")
        /// The connection is closed.
        public static let connectionClosed = Code("connectionClosed")
        /// The bounded buffer for publishes made while disconnected is full.
        public static let reconnectBufferExceeded = Code("reconnectBufferExceeded")
        /// The outbound buffer stayed full for longer than the publish wait allows.
        public static let outboundBufferFull = Code("outboundBufferFull")
        /// A subscription's pending limit was reached and messages were dropped.
        public static let slowConsumer = Code("slowConsumer")
        /// The server sent a malformed frame.
        public static let protocolError = Code("protocolError")
        /// The server sent an -ERR this client does not classify.
        public static let serverError = Code("serverError")
        /// The server stopped answering PINGs.
        public static let staleConnection = Code("staleConnection")
        /// TLS was asked for, but the server does not offer it (or the server insists on TLS
        /// where the client cannot use it).
        public static let tlsRequired = Code("tlsRequired")
        /// The server's TLS certificate failed verification (expired, unknown CA, name mismatch);
        /// the message says which check, and what to do.
        public static let tlsVerificationFailed = Code("tlsVerificationFailed")
        /// The server refused this client's TLS certificate (missing, or from a CA it does not trust).
        public static let tlsClientCertificateRejected = Code("tlsClientCertificateRejected")
        /// The TLS handshake failed for another reason (no common version, a peer that does not speak TLS).
        public static let tlsHandshakeFailed = Code("tlsHandshakeFailed")
        /// The TLS handshake did not finish in time.
        public static let tlsHandshakeTimeout = Code("tlsHandshakeTimeout")
        /// A configuration value is invalid.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// Published messages were accepted but could not be delivered to any server.
        public static let messagesLost = Code("messagesLost")
        /// The calling task was cancelled.
        public static let cancelled = Code("cancelled")
        /// The connection was lost (reconnect follows if enabled).
        public static let disconnected = Code("disconnected")
        public var description: String { name }
    }

    /// What kind of failure.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String
    /// `host:port` of the server involved, if any.
    public var server: String?
    /// The subject involved, if any.
    public var subject: String?
    /// The server's raw -ERR text, if this came from the server.
    public var serverText: String?
    /// The error this one wraps.
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, server: String? = nil, subject: String? = nil,
                serverText: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.server = server
        self.subject = subject
        self.serverText = serverText
        self.underlying = underlying
    }

    /// True when trying again (maybe later) can succeed.
    public var isRetriable: Bool {
        [.connectionFailed, .timeout, .noResponders, .reconnectBufferExceeded, .outboundBufferFull,
         .staleConnection, .disconnected].contains(code)
    }

    /// True when the connection this came from is gone.
    /// (See also `failureClass`, which run loops of other modules read.)
    public var isConnectionFatal: Bool {
        [.connectionFailed, .authorizationViolation, .authenticationExpired, .authenticationRevoked, .protocolError, .connectionClosed,
         .staleConnection, .tlsRequired, .tlsVerificationFailed, .tlsClientCertificateRejected, .tlsHandshakeFailed,
         .tlsHandshakeTimeout, .disconnected].contains(code)
    }

    public var description: String {
        var parts = [message]
        if let server { parts.append("server \(server)") }
        if let underlying { parts.append("cause: \(underlying)") }
        return parts.joined(separator: "; ")
    }

    /// Classifies a server `-ERR` text into a code, keeping the raw text.
    public static func from(serverError text: String, server: String?) -> NATSError {
        let rule = NATSServerErrorTable.classify(text)
        let code: Code
        switch rule.kind {
        case .authorizationViolation: code = .authorizationViolation
        case .authenticationTimeout, .userAuthenticationExpired, .accountAuthenticationExpired: code = .authenticationExpired
        case .userAuthenticationRevoked: code = .authenticationRevoked
        case .permissionsViolation: code = .permissionViolation
        case .maximumPayloadViolation: code = .maxPayloadExceeded
        case .staleConnection: code = .staleConnection
        case .invalidSubject: code = .invalidSubject
        case .secureConnectionTLSRequired: code = .tlsRequired
        default: code = .serverError
        }
        return NATSError(code, "server error '\(text)': \(rule.hint)", server: server, serverText: text)
    }

    /// An invalid subject, queue or header name, with the rule it breaks.
    public static func invalidName(_ what: String, _ name: String, _ problem: NATSNameProblem, code: Code = .invalidSubject) -> NATSError {
        NATSError(code, "invalid \(what) '\(name)': \(problem); fix the \(what) before sending", subject: name)
    }
}

extension NATSError: ClassifiedFailure {
    /// `.cancellation` for `.cancelled`; `.transient` for connection loss, timeouts, no
    /// responders and full buffers; `.permanent` otherwise.
    public var failureClass: FailureClass {
        if code == .cancelled { return .cancellation }
        let transient: [Code] = [.connectionFailed, .connectionClosed, .disconnected, .staleConnection, .timeout,
                                 .noResponders, .reconnectBufferExceeded, .outboundBufferFull]
        return transient.contains(code) ? .transient : .permanent
    }
}
