import TributaryNATSProtocol
import TributaryTransport

extension NATSError {
    static func from(transport error: TransportError) -> NATSError {
        NATSError(.connectionFailed, error.description, server: error.endpoint, underlying: error)
    }
}
