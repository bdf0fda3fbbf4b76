#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the socket layer, naming the endpoint it concerns.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure happened.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String {
            case dnsFailure, connectionRefused, timedOut, connectionReset, closedByPeer, closed, io
            case tlsConfiguration, tlsVerification, tlsPeerRejectedCertificate, tlsHandshake, tlsHandshakeTimedOut, tlsIO
        }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }
        /// The host name did not resolve.
        public static let dnsFailure = Code(.dnsFailure)
        /// Every resolved address refused the connection.
        public static let connectionRefused = Code(.connectionRefused)
        /// Connecting or an operation took longer than its timeout.
        public static let timedOut = Code(.timedOut)
        /// The peer reset the connection.
        public static let connectionReset = Code(.connectionReset)
        /// The peer closed the connection.
        public static let closedByPeer = Code(.closedByPeer)
        /// The socket was closed locally.
        public static let closed = Code(.closed)
        /// Any other system-call failure.
        public static let io = Code(.io)
        /// The TLS settings cannot be used: a file is missing or unreadable, a key does not match
        /// its certificate, or its password is wrong.
        public static let tlsConfiguration = Code(.tlsConfiguration)
        /// The server's certificate failed verification; `verificationFailure` says which check.
        public static let tlsVerification = Code(.tlsVerification)
        /// The server refused this client's certificate (missing, or not signed by a CA it trusts).
        public static let tlsPeerRejectedCertificate = Code(.tlsPeerRejectedCertificate)
        /// The TLS handshake failed for another reason (protocol version, ciphers, a non-TLS peer).
        public static let tlsHandshake = Code(.tlsHandshake)
        /// The TLS handshake did not finish within its time limit.
        public static let tlsHandshakeTimedOut = Code(.tlsHandshakeTimedOut)
        /// A TLS record could not be read or written after the handshake (a corrupt or cut record).
        public static let tlsIO = Code(.tlsIO)
        /// True for the TLS codes.
        public var isTLS: Bool {
            switch kind {
            case .tlsConfiguration, .tlsVerification, .tlsPeerRejectedCertificate, .tlsHandshake, .tlsHandshakeTimedOut, .tlsIO: return true
            default: return false
            }
        }
        public var description: String { kind.rawValue }
    }

    /// What kind of failure happened.
    public var code: Code
    /// `host:port` of the endpoint.
    public var endpoint: String
    /// The `errno` value, when a system call failed.
    public var errno: Int32?
    /// What happened, in words.
    public var message: String
    /// For `.tlsVerification`: which check the server's certificate failed.
    public var verificationFailure: TLSVerificationFailure?

    public init(code: Code, endpoint: String, errno: Int32? = nil, message: String,
                verificationFailure: TLSVerificationFailure? = nil) {
        self.code = code
        self.endpoint = endpoint
        self.errno = errno
        self.message = message
        self.verificationFailure = verificationFailure
    }

    public var description: String {
        var text = "\(endpoint): \(message)"
        if let errno { text += " (\(String(cString: strerror(errno))), errno \(errno))" }
        return text
    }

    static func fromErrno(_ err: Int32, endpoint: String, operation: String) -> TransportError {
        switch err {
        case ECONNREFUSED:
            return TransportError(code: .connectionRefused, endpoint: endpoint, errno: err,
                                  message: "connection refused during \(operation); is the server running and listening there?")
        case ECONNRESET, EPIPE:
            return TransportError(code: .connectionReset, endpoint: endpoint, errno: err,
                                  message: "connection reset by peer during \(operation)")
        case ETIMEDOUT:
            return TransportError(code: .timedOut, endpoint: endpoint, errno: err, message: "\(operation) timed out")
        default:
            return TransportError(code: .io, endpoint: endpoint, errno: err, message: "\(operation) failed")
        }
    }
}

/// Which check a server certificate failed during TLS verification.
public enum TLSVerificationFailure: String, Sendable, Hashable, CustomStringConvertible {
    /// The certificate (or one in its chain) has expired.
    case expired
    /// The certificate is not valid yet (check the clocks).
    case notYetValid
    /// The certificate was not issued by a trusted CA.
    case unknownAuthority
    /// The certificate is self-signed and not trusted.
    case selfSigned
    /// The certificate does not name the host (or IP address) that was connected to.
    case nameMismatch
    /// The certificate was revoked.
    case revoked
    /// The certificate may not be used to identify a TLS server.
    case invalidPurpose
    /// Another verification failure; the error's message has the details.
    case other

    public var description: String { rawValue }
}
