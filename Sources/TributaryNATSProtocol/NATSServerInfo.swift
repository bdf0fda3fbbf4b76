import Foundation

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
        case tlsRequired = "tls_required", connectURLs = "connect_urls", lameDuckMode = "ldm"
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
        connectURLs = try c.decodeIfPresent([String].self, forKey: .connectURLs) ?? []
        lameDuckMode = try c.decodeIfPresent(Bool.self, forKey: .lameDuckMode) ?? false
        clientID = try c.decodeIfPresent(UInt64.self, forKey: .clientID)
        jetStream = try c.decodeIfPresent(Bool.self, forKey: .jetStream) ?? false
        nonce = try c.decodeIfPresent(String.self, forKey: .nonce)
    }

    /// Decodes INFO JSON.
    public static func decode(json: UnsafeRawBufferPointer, offset: Int) throws(NATSProtocolError) -> NATSServerInfo {
        do {
            return try JSONDecoder().decode(NATSServerInfo.self, from: Data(json))
        } catch {
            throw NATSProtocolError(code: .badInfo, message: "expected INFO with a JSON object, decoding failed: \(error)",
                                    offset: offset, excerpt: ASCII.hexExcerpt(json))
        }
    }
}

import TributaryWire
