public enum NATSProtocolConstants {
    public static let defaultPort: Int = 4222
    public static let maxControlLineBytes: Int = 4096
    public static let protocolVersion: Int = 1
    public static let defaultMaxPayload: Int = 1048576
    public static let headerVersionLine: String = "NATS/1.0"
}
public enum NATSStatusCode {
    public static let idleHeartbeat: Int = 100
    public static let noResponders: Int = 503
}
public struct NATSServerErrorKind: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public var description: String { name }
    public static let authorizationViolation = NATSServerErrorKind(name: "authorizationViolation")
    public static let authenticationTimeout = NATSServerErrorKind(name: "authenticationTimeout")
    public static let userAuthenticationExpired = NATSServerErrorKind(name: "userAuthenticationExpired")
    public static let accountAuthenticationExpired = NATSServerErrorKind(name: "accountAuthenticationExpired")
    public static let permissionsViolation = NATSServerErrorKind(name: "permissionsViolation")
    public static let maximumPayloadViolation = NATSServerErrorKind(name: "maximumPayloadViolation")
    public static let staleConnection = NATSServerErrorKind(name: "staleConnection")
    public static let invalidSubject = NATSServerErrorKind(name: "invalidSubject")
    public static let secureConnectionTLSRequired = NATSServerErrorKind(name: "secureConnectionTLSRequired")
    public static let unknown = NATSServerErrorKind(name: "unknown")
}
public struct NATSServerErrorRule: Sendable {
    public let kind: NATSServerErrorKind
    public let match: String
    public let closesConnection: Bool
    public let hint: String
}
public enum NATSServerErrorTable {
    public static let rules: [NATSServerErrorRule] = [
        NATSServerErrorRule(kind: .permissionsViolation, match: "permissions violation", closesConnection: false, hint: "x"),
        NATSServerErrorRule(kind: .authorizationViolation, match: "authorization violation", closesConnection: true, hint: "x"),
    ]
    public static func classify(_ text: String) -> NATSServerErrorRule {
        let lower = text.lowercased()
        return rules.first { lower.hasPrefix($0.match) } ?? NATSServerErrorRule(kind: .unknown, match: "", closesConnection: true, hint: "x")
    }
}
