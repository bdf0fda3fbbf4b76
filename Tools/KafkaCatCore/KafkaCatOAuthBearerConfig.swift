import ToolSupport
import TributaryKafka
import TributaryKafkaProtocol

/// librdkafka's `sasl.oauthbearer.config` for its unsecured-JWT mode
/// (`enable.sasl.oauthbearer.unsecure.jwt=true`): space-separated `principal=NAME`,
/// `lifeSeconds=N` (default 3600), `scope=a,b` and `extension_KEY=VALUE` entries, parsed as
/// librdkafka parses them (each entry at most once, no empty values). `principalClaimName` and
/// `scopeClaimName` are accepted only with their defaults, `sub` and `scope`.
public struct KafkaCatOAuthBearerConfig: Sendable, Equatable {
    /// `principal=`: the JWT's `sub`. Required.
    public var principal: String
    /// `lifeSeconds=`: `exp - iat`, in seconds.
    public var lifeSeconds: Int = 3600
    /// `scope=`: the JWT's `scope` claim, comma-separated there.
    public var scope: [String] = []
    /// `extension_KEY=VALUE`: SASL extensions.
    public var extensions: [String: String] = [:]

    /// Parses a `sasl.oauthbearer.config` value.
    ///
    /// - Throws: `UsageError` naming the entry that is unknown, repeated, empty or malformed,
    ///   or saying that `principal=` is missing.
    public init(parsing text: String) throws(UsageError) {
        var principal: String?
        var life: Int?
        var scope: [String]?
        var extensions: [String: String] = [:]
        var seen: Set<String> = []
        for entry in text.split(separator: " ") {
            guard let equals = entry.firstIndex(of: "=") else {
                throw Self.error("'\(entry)' is not name=value")
            }
            let name = String(entry[..<equals])
            let value = String(entry[entry.index(after: equals)...])
            guard !value.isEmpty else { throw Self.error("empty '\(name)='") }
            if name.hasPrefix("extension_") {
                let key = String(name.dropFirst("extension_".count))
                guard !key.isEmpty else { throw Self.error("empty 'extension_' key") }
                guard extensions[key] == nil else { throw Self.error("multiple '\(name)' entries") }
                extensions[key] = value
                continue
            }
            guard seen.insert(name).inserted else { throw Self.error("multiple '\(name)=' entries") }
            switch name {
            case "principal":
                principal = value
            case "lifeSeconds":
                guard let seconds = Int(value), seconds > 0, seconds <= Int(Int32.max) else {
                    throw Self.error("lifeSeconds=\(value) is not a positive whole number")
                }
                life = seconds
            case "scope":
                scope = value.split(separator: ",").map(String.init)
            case "principalClaimName" where value == "sub", "scopeClaimName" where value == "scope":
                break
            case "principalClaimName", "scopeClaimName":
                throw Self.error("\(name)=\(value) is not supported: kafka-cat's unsecured tokens use the claims sub and scope")
            default:
                throw Self.error("unknown entry '\(name)='; expected principal=, lifeSeconds=, scope= or extension_NAME=")
            }
        }
        guard let principal else { throw Self.error("no principal=<value>") }
        do throws(SASLError) {
            try SASLOAuthBearer.validate(extensions: extensions)
        } catch {
            throw Self.error("\(error)")
        }
        self.principal = principal
        self.lifeSeconds = life ?? 3600
        self.scope = scope ?? []
        self.extensions = extensions
    }

    /// A SASL extension list as `sasl.oauthbearer.extensions` takes it: `key=value,key2=value2`.
    ///
    /// - Throws: `UsageError` for a pair without `=` or a key or value OAUTHBEARER cannot carry.
    public static func extensions(parsing text: String) throws(UsageError) -> [String: String] {
        var extensions: [String: String] = [:]
        for pair in text.split(separator: ",") {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw UsageError("invalid -X sasl.oauthbearer.extensions: '\(pair)' is not key=value")
            }
            extensions[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        do throws(SASLError) {
            try SASLOAuthBearer.validate(extensions: extensions)
        } catch {
            throw UsageError("invalid -X sasl.oauthbearer.extensions: \(error)")
        }
        return extensions
    }

    /// A fresh unsigned token (`alg` none) for this config, with `extraExtensions` added (the
    /// config's own `extension_` entries win on a clash).
    public func token(extraExtensions: [String: String] = [:]) -> KafkaOAuthBearerToken {
        KafkaOAuthBearerToken.unsecuredJWT(principal: principal, lifetime: .seconds(lifeSeconds), scope: scope,
                                           extensions: extraExtensions.merging(extensions) { _, own in own })
    }

    /// The SASL settings: a token made by ``token(extraExtensions:)`` for every authentication
    /// that needs one (cached by the client until 80 % of its life, as librdkafka refreshes).
    public func sasl(extraExtensions: [String: String] = [:]) -> KafkaSASL {
        let config = self
        return .oauthBearer { config.token(extraExtensions: extraExtensions) }
    }

    private static func error(_ detail: String) -> UsageError {
        UsageError("invalid -X sasl.oauthbearer.config: \(detail)")
    }
}
