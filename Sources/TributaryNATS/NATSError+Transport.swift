import TributaryNATSProtocol
import TributaryTransport

extension NATSError {
    static func from(transport error: TransportError) -> NATSError {
        let code: Code
        switch error.code {
        case .tlsVerification: code = .tlsVerificationFailed
        case .tlsPeerRejectedCertificate: code = .tlsClientCertificateRejected
        case .tlsHandshake: code = .tlsHandshakeFailed
        case .tlsHandshakeTimedOut: code = .tlsHandshakeTimeout
        case .tlsConfiguration: code = .invalidConfiguration
        default: code = .connectionFailed
        }
        return NATSError(code, error.description, server: error.endpoint, underlying: error)
    }

    /// For `.tlsVerificationFailed`: which check the server's certificate failed.
    public var tlsVerificationFailure: TLSVerificationFailure? {
        (underlying as? TransportError)?.verificationFailure
    }
}
