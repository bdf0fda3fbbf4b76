/// Settings of a ``JetStreamContext``. `init()` gives a working setup; each default is a named constant.
public struct JetStreamOptions: Sendable {
    /// Default timeout of each API request and publish acknowledgement: 5 s (like nats.go `DefaultAPITimeout`).
    public static let defaultRequestTimeout: Duration = .seconds(5)
    /// Default attempts of a publish that meets 503 no responders: 3, so 2 retries (ADR-22; like nats.go `DefaultPubRetryAttempts` 2).
    public static let defaultPublishRetryAttempts = 3
    /// Default wait between those attempts: 250 ms (like nats.go `DefaultPubRetryWait`).
    public static let defaultPublishRetryWait: Duration = .milliseconds(250)
    /// Default bound of unacknowledged async publishes: 4,000 (like nats.go `PublishAsyncMaxPending`).
    public static let defaultMaxPendingAsyncPublishes = 4000
    /// Default time an async publish waits for room in a full window: 5 s.
    public static let defaultAsyncPublishWaitTimeout: Duration = .seconds(5)

    /// JetStream domain (a leaf node's or hub's `jetstream.domain`); the API prefix becomes
    /// `$JS.<domain>.API`. Default nil. Ignored when `apiPrefix` is set.
    public var domain: String?
    /// Custom API prefix (for JetStream imported from another account), like nats.go `APIPrefix`.
    /// Default nil: `$JS.API`.
    public var apiPrefix: String?
    /// Timeout of each API request and publish acknowledgement. Default `defaultRequestTimeout`.
    public var requestTimeout = JetStreamOptions.defaultRequestTimeout
    /// Attempts of a publish that meets no responders (JetStream not yet ready after a restart).
    /// Default `defaultPublishRetryAttempts`; 1 means no retry.
    public var publishRetryAttempts = JetStreamOptions.defaultPublishRetryAttempts
    /// Wait between publish attempts; doubled after each attempt. Default `defaultPublishRetryWait`.
    public var publishRetryWait = JetStreamOptions.defaultPublishRetryWait
    /// Bound of async publishes waiting for their acknowledgement. Default `defaultMaxPendingAsyncPublishes`.
    public var maxPendingAsyncPublishes = JetStreamOptions.defaultMaxPendingAsyncPublishes
    /// How long `publishAsync` waits for room in a full window before failing with
    /// `.publishWindowFull`. Default `defaultAsyncPublishWaitTimeout`.
    public var asyncPublishWaitTimeout = JetStreamOptions.defaultAsyncPublishWaitTimeout

    /// Creates the default options.
    public init() {}

    /// The API prefix in use, without a trailing dot.
    public var resolvedAPIPrefix: String {
        if let apiPrefix, !apiPrefix.isEmpty {
            return apiPrefix.hasSuffix(".") ? String(apiPrefix.dropLast()) : apiPrefix
        }
        if let domain, !domain.isEmpty { return "$JS.\(domain).API" }
        return JetStreamAPISubject.defaultPrefix
    }

    func validate() throws(JetStreamError) {
        guard publishRetryAttempts >= 1 else {
            throw JetStreamError(.invalidArgument, "publishRetryAttempts must be at least 1, got \(publishRetryAttempts)")
        }
        guard maxPendingAsyncPublishes >= 1 else {
            throw JetStreamError(.invalidArgument, "maxPendingAsyncPublishes must be at least 1, got \(maxPendingAsyncPublishes)")
        }
        guard requestTimeout > .zero else {
            throw JetStreamError(.invalidArgument, "requestTimeout must be positive")
        }
        if let domain, domain.contains(where: { $0 == "." || $0 == "*" || $0 == ">" || $0.isWhitespace }) {
            throw JetStreamError(.invalidArgument, "domain '\(domain)' must be a single subject token")
        }
    }
}
