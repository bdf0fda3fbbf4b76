/// The API versions a broker announced in its ApiVersions response, and the choice of the
/// version to use for each request: the highest both sides support.
public struct KafkaApiVersionTable: Sendable, Hashable {
    /// The broker's range per API key.
    public var brokerRanges: [Int16: ClosedRange<Int16>]

    /// Creates a table from explicit ranges.
    public init(brokerRanges: [Int16: ClosedRange<Int16>]) {
        self.brokerRanges = brokerRanges
    }

    /// Creates a table from an ApiVersions response; entries with min > max are ignored.
    public init(_ response: ApiVersionsResponse) {
        var ranges: [Int16: ClosedRange<Int16>] = [:]
        for entry in response.apiKeys where entry.minVersion <= entry.maxVersion {
            ranges[entry.apiKey] = entry.minVersion...entry.maxVersion
        }
        self.brokerRanges = ranges
    }

    /// No version both sides support.
    public struct Mismatch: Error, Sendable, Hashable, CustomStringConvertible {
        /// The API.
        public var api: KafkaAPIKey
        /// The versions the client can speak.
        public var clientRange: ClosedRange<Int16>
        /// The versions the broker announced, nil when it does not support the API at all.
        public var brokerRange: ClosedRange<Int16>?

        /// Says which API and both ranges.
        public var description: String {
            let broker = brokerRange.map { "versions \($0.lowerBound)-\($0.upperBound)" } ?? "no version at all"
            return "no \(api.name) version in common: the client speaks versions \(clientRange.lowerBound)-\(clientRange.upperBound), the broker \(broker); use a broker that supports \(api.name) in that range"
        }
    }

    /// The highest version of `api` within both `clientRange` and the broker's range.
    ///
    /// - Throws: ``Mismatch`` naming the API and both ranges when there is none.
    public func version(for api: KafkaAPIKey, clientRange: ClosedRange<Int16>) throws(Mismatch) -> Int16 {
        guard let broker = brokerRanges[api.rawValue], broker.overlaps(clientRange) else {
            throw Mismatch(api: api, clientRange: clientRange, brokerRange: brokerRanges[api.rawValue])
        }
        return min(broker.upperBound, clientRange.upperBound)
    }

    /// The highest version of `api` both sides support, with the client's full range.
    public func version(for api: KafkaAPIKey) throws(Mismatch) -> Int16 {
        try version(for: api, clientRange: api.supportedVersions)
    }
}
