/// Connection lifecycle and asynchronous errors, observable through `NATSClient.events`.
public enum NATSEvent: Sendable, CustomStringConvertible {
    /// Connected to a server for the first time.
    case connected(server: String)
    /// The connection was lost; the client is reconnecting (if enabled).
    case disconnected(server: String, error: NATSError?)
    /// Reconnected, subscriptions restored and buffered publishes re-sent.
    case reconnected(server: String)
    /// The server announced lame-duck mode; the client is moving to another server.
    case lameDuckMode(server: String)
    /// The client is closed for good.
    case closed(error: NATSError?)
    /// An asynchronous error (permission violation, slow consumer, lost messages…); the connection stays up.
    case error(NATSError)
    /// New servers were learned from the cluster.
    case discoveredServers([String])

    public var description: String {
        switch self {
        case .connected(let server): return "connected to \(server)"
        case .disconnected(let server, let error): return "disconnected from \(server)" + (error.map { ": \($0)" } ?? "")
        case .reconnected(let server): return "reconnected to \(server)"
        case .lameDuckMode(let server): return "server \(server) entered lame-duck mode"
        case .closed(let error): return "connection closed" + (error.map { ": \($0)" } ?? "")
        case .error(let error): return "error: \(error)"
        case .discoveredServers(let urls): return "discovered servers \(urls.joined(separator: ", "))"
        }
    }
}
