/// The server's INFO: identity, limits and cluster topology.
public struct NATSServerInfo: Sendable, Hashable, Decodable {
    /// The server's unique id.
    public var serverID: String
    /// The server's name.
    public var serverName: String
    /// Server version, such as "2.15.1".
    public var version: String
    /// Host the server listens on.
    public var host: String
    /// Port the server listens on.
    public var port: Int
    /// Largest payload (headers included) the server accepts, in bytes.
    public var maxPayload: Int
    /// Protocol level.
    public var proto: Int
    /// True when the server supports headers (HPUB/HMSG).
    public var headers: Bool
    /// True when the server requires credentials.
    public var authRequired: Bool
    /// True when the server requires TLS.
    public var tlsRequired: Bool
    /// True when the server accepts TLS but does not require it.
    public var tlsAvailable: Bool
    /// Other servers of the cluster clients may connect to (`host:port`).
    public var connectURLs: [String]
    /// True when the server is in lame-duck mode and clients should move elsewhere.
    public var lameDuckMode: Bool
    /// The client id the server assigned to this connection.
    public var clientID: UInt64?
    /// True when JetStream is enabled.
    public var jetStream: Bool
    /// A nonce for nkey authentication, if the server sent one.
    public var nonce: String?

    enum CodingKeys: String, CodingKey {
        case serverID = "server_id", serverName = "server_name", version, host, port
        case maxPayload = "max_payload", proto, headers, authRequired = "auth_required"
        case tlsRequired = "tls_required", tlsAvailable = "tls_available", connectURLs = "connect_urls", lameDuckMode = "ldm"
        case clientID = "client_id", jetStream = "jetstream", nonce
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        serverID = try c.decodeIfPresent(String.self, forKey: .serverID) ?? ""
        serverName = try c.decodeIfPresent(String.self, forKey: .serverName) ?? ""
        version = try c.decodeIfPresent(String.self, forKey: .version) ?? ""
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? ""
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? NATSProtocolConstants.defaultPort
        maxPayload = try c.decodeIfPresent(Int.self, forKey: .maxPayload) ?? NATSProtocolConstants.defaultMaxPayload
        proto = try c.decodeIfPresent(Int.self, forKey: .proto) ?? 0
        headers = try c.decodeIfPresent(Bool.self, forKey: .headers) ?? false
        authRequired = try c.decodeIfPresent(Bool.self, forKey: .authRequired) ?? false
        tlsRequired = try c.decodeIfPresent(Bool.self, forKey: .tlsRequired) ?? false
        tlsAvailable = try c.decodeIfPresent(Bool.self, forKey: .tlsAvailable) ?? false
        connectURLs = try c.decodeIfPresent([String].self, forKey: .connectURLs) ?? []
        lameDuckMode = try c.decodeIfPresent(Bool.self, forKey: .lameDuckMode) ?? false
        clientID = try c.decodeIfPresent(UInt64.self, forKey: .clientID)
        jetStream = try c.decodeIfPresent(Bool.self, forKey: .jetStream) ?? false
        nonce = try c.decodeIfPresent(String.self, forKey: .nonce)
    }

    /// Decodes INFO JSON (without Foundation: the wire modules read JSON with `JSONValue`).
    public static func decode(json: UnsafeRawBufferPointer, offset: Int) throws(NATSProtocolError) -> NATSServerInfo {
        func fail(_ why: String) -> NATSProtocolError {
            NATSProtocolError(code: .badInfo, message: "expected INFO with a JSON object, decoding failed: \(why)",
                              offset: offset, excerpt: ASCII.hexExcerpt(json))
        }
        let value: JSONValue
        do { value = try JSONValue.parse(json) } catch { throw fail(error.description) }
        guard case .object = value else { throw fail("the INFO payload is not a JSON object") }
        func string(_ key: String) throws(NATSProtocolError) -> String? {
            guard let member = value[key], member != .null else { return nil }
            guard let text = member.stringValue else { throw fail("'\(key)' is not a string") }
            return text
        }
        func int(_ key: String) throws(NATSProtocolError) -> Int? {
            guard let member = value[key], member != .null else { return nil }
            guard let number = member.intValue else { throw fail("'\(key)' is not an integer") }
            return number
        }
        func bool(_ key: String) throws(NATSProtocolError) -> Bool? {
            guard let member = value[key], member != .null else { return nil }
            guard let flag = member.boolValue else { throw fail("'\(key)' is not a boolean") }
            return flag
        }
        var info = NATSServerInfo()
        info.serverID = try string("server_id") ?? ""
        info.serverName = try string("server_name") ?? ""
        info.version = try string("version") ?? ""
        info.host = try string("host") ?? ""
        info.port = try int("port") ?? NATSProtocolConstants.defaultPort
        info.maxPayload = try int("max_payload") ?? NATSProtocolConstants.defaultMaxPayload
        info.proto = try int("proto") ?? 0
        info.headers = try bool("headers") ?? false
        info.authRequired = try bool("auth_required") ?? false
        info.tlsRequired = try bool("tls_required") ?? false
        info.tlsAvailable = try bool("tls_available") ?? false
        if let urls = value["connect_urls"], urls != .null {
            guard let elements = urls.arrayValue else { throw fail("'connect_urls' is not an array") }
            info.connectURLs = try elements.map { (element) throws(NATSProtocolError) -> String in
                guard let url = element.stringValue else { throw fail("'connect_urls' holds a non-string") }
                return url
            }
        }
        info.lameDuckMode = try bool("ldm") ?? false
        if let member = value["client_id"], member != .null {
            guard let id = member.uint64Value else { throw fail("'client_id' is not an unsigned integer") }
            info.clientID = id
        }
        info.jetStream = try bool("jetstream") ?? false
        info.nonce = try string("nonce")
        return info
    }

    /// An INFO with every field at its default.
    init() {
        serverID = ""
        serverName = ""
        version = ""
        host = ""
        port = NATSProtocolConstants.defaultPort
        maxPayload = NATSProtocolConstants.defaultMaxPayload
        proto = 0
        headers = false
        authRequired = false
        tlsRequired = false
        tlsAvailable = false
        connectURLs = []
        lameDuckMode = false
        clientID = nil
        jetStream = false
        nonce = nil
    }
}

import TributaryWire
