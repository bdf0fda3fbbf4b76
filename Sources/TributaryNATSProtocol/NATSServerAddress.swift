import Foundation

/// A parsed server URL: `nats://[user:pass@|token@]host[:port]`.
public struct NATSServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// Host name or address.
    public var host: String
    /// Port (default 4222).
    public var port: Int
    /// User from the URL.
    public var user: String?
    /// Password from the URL.
    public var password: String?
    /// Token from the URL (user info without a colon).
    public var token: String?
    /// True when the URL asked for TLS (`tls://`).
    public var tls: Bool

    /// Parses a URL; a bare `host[:port]` is accepted too.
    public init(parsing text: String) throws(NATSError) {
        var rest = Substring(text)
        tls = false
        if let range = rest.range(of: "://") {
            let scheme = rest[..<range.lowerBound].lowercased()
            switch scheme {
            case "nats": break
            case "tls": tls = true
            default:
                throw NATSError(.invalidConfiguration, "server URL '\(Self.redacted(text))' has scheme '\(scheme)'; use nats:// (or tls://)")
            }
            rest = rest[range.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        user = nil; password = nil; token = nil
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = String(userInfo[..<colon]).removingPercentEncoding ?? String(userInfo[..<colon])
                let pass = userInfo[userInfo.index(after: colon)...]
                password = String(pass).removingPercentEncoding ?? String(pass)
            } else if !userInfo.isEmpty {
                token = String(userInfo).removingPercentEncoding ?? String(userInfo)
            }
        }
        var hostPart = rest
        var portValue = NATSProtocolConstants.defaultPort
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else {
                throw NATSError(.invalidConfiguration, "server URL '\(Self.redacted(text))' has an unclosed '[' in the IPv6 host")
            }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw NATSError(.invalidConfiguration, "server URL '\(Self.redacted(text))' has an invalid port")
                }
                portValue = p
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let p = Int(hostPart[hostPart.index(after: colon)...]), (1...65535).contains(p) else {
                throw NATSError(.invalidConfiguration, "server URL '\(Self.redacted(text))' has an invalid port")
            }
            portValue = p
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else {
            throw NATSError(.invalidConfiguration, "server URL '\(Self.redacted(text))' has no host")
        }
        host = String(hostPart)
        port = portValue
    }

    /// `host:port`.
    public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The URL without credentials.
    public var description: String { "\(tls ? "tls" : "nats")://\(endpoint)" }

    /// The URL with its user info replaced by `***`.
    public static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        let start = url.range(of: "://")?.upperBound ?? url.startIndex
        return String(url[..<start]) + "***" + String(url[at...])
    }
}
