#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// Wire conventions of the JetStream JSON API (see ProtocolSpecs/nats/jetstream-api.json):
// durations are integer nanoseconds (Go time.Duration), byte slices are base64 text.
// The generated types call these helpers from their init(from:) and encode(to:).

extension Duration {
    /// The duration in whole nanoseconds, clamped to `Int64`.
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflowSum) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflowSum { return seconds < 0 ? .min : .max }
        return sum
    }
}

extension KeyedDecodingContainer {
    func decodeNanoseconds(forKey key: Key) throws -> Duration {
        .nanoseconds(try decode(Int64.self, forKey: key))
    }

    func decodeNanosecondsIfPresent(forKey key: Key) throws -> Duration? {
        try decodeIfPresent(Int64.self, forKey: key).map { .nanoseconds($0) }
    }

    func decodeNanosecondArray(forKey key: Key) throws -> [Duration] {
        try decode([Int64].self, forKey: key).map { .nanoseconds($0) }
    }

    func decodeNanosecondArrayIfPresent(forKey key: Key) throws -> [Duration]? {
        try decodeIfPresent([Int64].self, forKey: key).map { $0.map { .nanoseconds($0) } }
    }

    func decodeBase64IfPresent(forKey key: Key) throws -> [UInt8]? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not valid base64")
        }
        return [UInt8](data)
    }
}

extension KeyedEncodingContainer {
    mutating func encodeNanoseconds(_ value: Duration, forKey key: Key) throws {
        try encode(value.wholeNanoseconds, forKey: key)
    }

    mutating func encodeNanosecondsIfPresent(_ value: Duration?, forKey key: Key) throws {
        try encodeIfPresent(value?.wholeNanoseconds, forKey: key)
    }

    mutating func encodeNanosecondArray(_ value: [Duration], forKey key: Key) throws {
        try encode(value.map(\.wholeNanoseconds), forKey: key)
    }

    mutating func encodeNanosecondArrayIfPresent(_ value: [Duration]?, forKey key: Key) throws {
        try encodeIfPresent(value?.map(\.wholeNanoseconds), forKey: key)
    }

    mutating func encodeBase64IfPresent(_ value: [UInt8]?, forKey key: Key) throws {
        try encodeIfPresent(value.map { Data($0).base64EncodedString() }, forKey: key)
    }
}
