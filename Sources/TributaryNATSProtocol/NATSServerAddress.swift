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
    /// The name to check the server's TLS certificate against when it is not `host`: a server
    /// learned from the cluster by IP address is checked against the name of the configured
    /// server that announced it.
    public var tlsName: String?

    /// Parses a URL; a bare `host[:port]` is accepted too.
    public init(parsing text: String) throws(NATSError) {
        var rest = Substring(text)
        tls = false
        tlsName = nil
        if let range = Self.schemeSeparator(in: rest) {
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
                user = Self.percentDecoded(userInfo[..<colon])
                let pass = userInfo[userInfo.index(after: colon)...]
                password = Self.percentDecoded(pass)
            } else if !userInfo.isEmpty {
                token = Self.percentDecoded(userInfo)
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

    /// True when `host` is an IPv4 or IPv6 address rather than a name.
    public var hostIsIPAddress: Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && (Int(part) ?? 256) <= 255
        }
    }

    /// `host:port`.
    public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The URL without credentials.
    public var description: String { "\(tls ? "tls" : "nats")://\(endpoint)" }

    /// The range of the first "://" in `text`.
    static func schemeSeparator(in text: Substring) -> Range<Substring.Index>? {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index...].hasPrefix("://") { return index..<text.index(index, offsetBy: 3) }
            index = text.index(after: index)
        }
        return nil
    }

    /// Decodes `%XX` escapes (as in URL user info); malformed escapes are kept as they are.
    static func percentDecoded(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: return byte - 0x30
            case 0x41...0x46: return byte - 0x41 + 10
            case 0x61...0x66: return byte - 0x61 + 10
            default: return nil
            }
        }
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count, let high = hex(utf8[index + 1]), let low = hex(utf8[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The URL with its user info replaced by `***`.
    public static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        let start = schemeSeparator(in: url[...])?.upperBound ?? url.startIndex
        return String(url[..<start]) + "***" + String(url[at...])
    }
}
