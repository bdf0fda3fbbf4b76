import TributaryWire

/// A bridge's typed error: what went wrong, on which route, and what to do.
public struct BridgeError: Error, Sendable, CustomStringConvertible, ClassifiedFailure {
    /// What kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The configuration is not usable; `route` and `field` say where.
        case invalidConfiguration
        /// A message could not be mapped (its subject, key or headers do not fit the other side).
        case unmappable
        /// A route's source or destination failed.
        case routeFailed
    }

    public let code: Code
    /// The route concerned, if any.
    public let route: String?
    /// The configuration field concerned, if any.
    public let field: String?
    /// What happened and what to do.
    public let message: String

    init(_ code: Code, route: String?, field: String? = nil, _ message: String) {
        self.code = code
        self.route = route
        self.field = field
        self.message = message
    }

    public var description: String {
        var where_ = ""
        if let route { where_ += "route '\(route)'" }
        if let field { where_ += (where_.isEmpty ? "" : ", ") + "field '\(field)'" }
        return where_.isEmpty ? message : "\(where_): \(message)"
    }

    /// Unmappable messages never become mappable by retrying; nor does a bad configuration.
    public var failureClass: FailureClass { code == .routeFailed ? .transient : .permanent }
}
