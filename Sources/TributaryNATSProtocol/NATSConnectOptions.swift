import TributaryWire

/// The CONNECT options the client sends after INFO.
public struct NATSConnectOptions: Sendable, Hashable, Encodable {
    /// Ask the server to acknowledge every frame with +OK (the client always sends false).
    public var verbose = false
    /// Ask the server for strict subject checking.
    public var pedantic = false
    /// Whether this connection uses TLS.
    public var tlsRequired = false
    /// Connection name shown in the server's monitoring.
    public var name: String?
    /// Client language.
    public var lang = "swift"
    /// Client version.
    public var version = NATSClientVersion.string
    /// Protocol level: 1 enables dynamic cluster reconfiguration (connect_urls in INFO).
    public var `protocol` = NATSProtocolConstants.protocolVersion
    /// Whether this connection receives its own publishes.
    public var echo = true
    /// Whether the client understands headers (HMSG).
    public var headers = true
    /// Whether the server should send a 503 status when a request has no responders.
    public var noResponders = true
    /// User name.
    public var user: String?
    /// Password.
    public var pass: String?
    /// Authentication token.
    public var authToken: String?
    /// User JWT (JWT authentication in operator mode).
    public var jwt: String?
    /// The user's NKEY public key (`U…`).
    public var nkey: String?
    /// The signature of the server's nonce, base64url without padding.
    public var sig: String?

    enum CodingKeys: String, CodingKey {
        case verbose, pedantic, tlsRequired = "tls_required", name, lang, version, `protocol`, echo, headers
        case noResponders = "no_responders", user, pass, authToken = "auth_token", jwt, nkey, sig
    }

    public init() {}

    /// Appends `CONNECT {json}\r\n` to `buffer` (members in sorted order, absent ones left out).
    public func encode(into buffer: inout [UInt8]) {
        var json = JSONObjectWriter()
        if let authToken { json.add("auth_token", authToken) }
        json.add("echo", echo)
        json.add("headers", headers)
        if let jwt { json.add("jwt", jwt) }
        json.add("lang", lang)
        if let name { json.add("name", name) }
        if let nkey { json.add("nkey", nkey) }
        json.add("no_responders", noResponders)
        if let pass { json.add("pass", pass) }
        json.add("pedantic", pedantic)
        json.add("protocol", `protocol`)
        if let sig { json.add("sig", sig) }
        json.add("tls_required", tlsRequired)
        if let user { json.add("user", user) }
        json.add("verbose", verbose)
        json.add("version", version)
        buffer.append(contentsOf: "CONNECT ".utf8)
        buffer.append(contentsOf: json.bytes)
        buffer.append(contentsOf: [13, 10])
    }
}

extension NATSConnectOptions: CustomStringConvertible, CustomDebugStringConvertible {
    /// The options with secrets (password, token, JWT, signature) shown as `<redacted>`.
    public var description: String {
        var redacted = self
        for secret in [\NATSConnectOptions.pass, \.authToken, \.jwt, \.sig] where redacted[keyPath: secret] != nil {
            redacted[keyPath: secret] = "<redacted>"
        }
        var bytes: [UInt8] = []
        redacted.encode(into: &bytes)
        return String(decoding: bytes.dropLast(2), as: UTF8.self)
    }

    public var debugDescription: String { description }
}

/// This library's version, sent in CONNECT.
public enum NATSClientVersion {
    /// The version string.
    public static let string = "0.1.0"
}
