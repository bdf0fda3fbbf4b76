#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension KafkaOAuthBearerToken {
    /// An unsigned JWT for brokers that accept unsecured tokens (Kafka's default
    /// `OAuthBearerUnsecuredValidatorCallbackHandler`), for development and tests only: what
    /// librdkafka builds with `enable.sasl.oauthbearer.unsecure.jwt=true` and
    /// `sasl.oauthbearer.config=principal=… lifeSeconds=… scope=…`.
    ///
    /// The token is `base64url({"alg":"none"}) "." base64url(claims) "."` (no padding, empty
    /// signature), with claims `{"sub":principal,"iat":…,"exp":…,"scope":[…]}` (times in seconds
    /// with milliseconds; `scope` only when given). Anyone can forge such a token: never accept
    /// unsecured tokens on a production broker.
    ///
    /// - Parameters:
    ///   - principal: the `sub` claim (librdkafka's `principal=`).
    ///   - lifetime: `exp - iat` (librdkafka's `lifeSeconds=`, default 3600 s).
    ///   - scope: the `scope` claim (librdkafka's `scope=`, comma-separated there); duplicates
    ///     and empty names are dropped. Default none.
    ///   - extensions: SASL extensions (librdkafka's `extension_NAME=value`).
    ///   - issuedAt: the `iat` claim. Default now.
    public static func unsecuredJWT(principal: String, lifetime: Duration = .seconds(3600), scope: [String] = [],
                                    extensions: [String: String] = [:], issuedAt: Date = Date()) -> KafkaOAuthBearerToken {
        let issued = (issuedAt.timeIntervalSince1970 * 1000).rounded(.down) / 1000
        let seconds = Double(lifetime.components.seconds) + Double(lifetime.components.attoseconds) / 1e18
        let expires = issued + seconds
        var claims = "{\"sub\":" + jsonString(principal) + ",\"iat\":" + numericDate(issued) + ",\"exp\":" + numericDate(expires)
        var names: [String] = []
        for name in scope where !name.isEmpty && !names.contains(name) { names.append(name) }
        if !names.isEmpty { claims += ",\"scope\":[" + names.map(jsonString).joined(separator: ",") + "]" }
        claims += "}"
        let value = base64URL(Data("{\"alg\":\"none\"}".utf8)) + "." + base64URL(Data(claims.utf8)) + "."
        return KafkaOAuthBearerToken(value: value, principal: principal, expiresAt: Date(timeIntervalSince1970: expires), extensions: extensions)
    }

    /// A NumericDate with three decimals, as librdkafka writes it (`1700000000.123`).
    private static func numericDate(_ seconds: Double) -> String {
        let millis = Int64((seconds * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// `text` as a JSON string literal.
    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Base64url without padding (RFC 4648 §5), as JWS uses it.
    private static func base64URL(_ data: Data) -> String {
        var text = data.base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }
}
