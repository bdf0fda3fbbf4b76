#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the socket layer, naming the endpoint it concerns.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure happened.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String { case dnsFailure, connectionRefused, timedOut, connectionReset, closedByPeer, closed, io }
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

    public init(code: Code, endpoint: String, errno: Int32? = nil, message: String) {
        self.code = code
        self.endpoint = endpoint
        self.errno = errno
        self.message = message
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
