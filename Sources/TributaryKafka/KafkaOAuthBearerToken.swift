#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A bearer token for SASL OAUTHBEARER (KIP-255), as a token provider returns it: what
/// ``KafkaSASL/oauthBearer(tokenProvider:)`` sends, like the token librdkafka's
/// `oauthbearer_token_refresh_cb` sets.
///
/// ```swift
/// KafkaOAuthBearerToken(value: accessToken, principal: "orders-service",
///                       expiresAt: Date(timeIntervalSince1970: expiresIn),
///                       extensions: ["logicalCluster": "lkc-42"])
/// ```
///
/// The token's value is never printed: ``description``, ``debugDescription`` and `dump` show
/// the principal, the expiry and the extension keys only.
public struct KafkaOAuthBearerToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The token as the identity provider issued it (a JWT or an opaque token), without a
    /// `Bearer ` prefix: RFC 6750's `b64token` characters only. Never printed.
    public var value: String
    /// Who the token names (the JWT's `sub`, a client id), for messages and logs only; the
    /// broker takes the principal from the token itself. nil when unknown.
    public var principal: String?
    /// When the token stops being valid, on the wall clock (a JWT's `exp`, or the time of the
    /// token response plus its `expires_in`), because that is the clock identity providers and
    /// brokers judge tokens by. With an expiry the client reuses the token until 80 % of its
    /// lifetime has passed (as librdkafka refreshes), and never sends it once it has expired;
    /// nil means unknown: the provider is asked again for every authentication.
    public var expiresAt: Date?
    /// SASL extensions sent with the token (KIP-342, RFC 7628 §3.1), for example a logical
    /// cluster id. Keys are ASCII letters and not `auth`; values are visible ASCII, space, tab,
    /// CR or LF. A token with other keys or values fails authentication with
    /// `.invalidConfiguration` naming the key. Default empty.
    public var extensions: [String: String]

    /// A token; `principal`, `expiresAt` and `extensions` default to unknown, unknown and none.
    public init(value: String, principal: String? = nil, expiresAt: Date? = nil, extensions: [String: String] = [:]) {
        self.value = value
        self.principal = principal
        self.expiresAt = expiresAt
        self.extensions = extensions
    }

    /// Principal, expiry and extension keys; the value is redacted:
    /// `KafkaOAuthBearerToken(principal "orders-service", expires 2026-05-01T10:00:00Z, extensions [logicalCluster], value <redacted>)`.
    public var description: String {
        var parts = [principal.map { "principal \"\($0)\"" } ?? "principal unknown"]
        parts.append(expiresAt.map { "expires \($0.ISO8601Format())" } ?? "expiry unknown")
        if !extensions.isEmpty { parts.append("extensions [" + extensions.keys.sorted().joined(separator: ", ") + "]") }
        parts.append("value <redacted>")
        return "KafkaOAuthBearerToken(" + parts.joined(separator: ", ") + ")"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }

    /// Principal, expiry and extension keys, so `dump` and debuggers do not show the value.
    public var customMirror: Mirror {
        Mirror(self, children: ["principal": principal as Any, "expiresAt": expiresAt as Any,
                                "extensionKeys": extensions.keys.sorted(), "value": "<redacted>"])
    }

    /// How messages name the token's holder: `principal "alice"` or `an unnamed principal`.
    var principalPhrase: String { principal.map { "principal \"\($0)\"" } ?? "an unnamed principal" }
}
