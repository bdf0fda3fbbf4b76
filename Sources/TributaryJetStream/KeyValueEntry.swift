#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryNATS

/// What an entry records: a value, a delete marker or a purge marker.
public enum KeyValueOperation: String, Sendable, Hashable, CustomStringConvertible {
    /// A value was put.
    case put = "PUT"
    /// The key was deleted (`KV-Operation: DEL`); its history is kept.
    case delete = "DEL"
    /// The key was purged (`KV-Operation: PURGE` with `Nats-Rollup: sub`); earlier revisions are gone.
    case purge = "PURGE"

    /// `PUT`, `DEL` or `PURGE`.
    public var description: String { rawValue }
}

/// One revision of one key.
public struct KeyValueEntry: Sendable, Hashable {
    /// The bucket.
    public var bucket: String
    /// The key.
    public var key: String
    /// The value (empty for delete and purge markers, and for meta-only watches).
    public var value: [UInt8]
    /// The revision: the stream sequence of this entry.
    public var revision: UInt64
    /// When the entry was stored.
    public var created: Date
    /// In a watch: how many entries of the watched keys followed this one when it was sent
    /// (0 for the newest); 0 for a get.
    public var delta: UInt64
    /// What the entry records.
    public var operation: KeyValueOperation

    /// Creates an entry.
    public init(bucket: String, key: String, value: [UInt8], revision: UInt64, created: Date, delta: UInt64, operation: KeyValueOperation) {
        self.bucket = bucket
        self.key = key
        self.value = value
        self.revision = revision
        self.created = created
        self.delta = delta
        self.operation = operation
    }

    /// The value as UTF-8 text.
    public var string: String { String(decoding: value, as: UTF8.self) }

    /// The header naming a delete or purge (ADR-8).
    static let operationHeader = "KV-Operation"
    /// The header a server-side delete marker carries (TTL expiry, purge, removal).
    static let markerReasonHeader = "Nats-Marker-Reason"

    /// The operation recorded by `headers`: `KV-Operation`, else a server marker reason
    /// (`MaxAge`/`Purge` count as purge, `Remove` as delete, like nats.go), else a put.
    static func operation(from headers: NATSHeaders?) -> KeyValueOperation {
        guard let headers else { return .put }
        if let value = headers[operationHeader] {
            switch value {
            case "DEL": return .delete
            case "PURGE": return .purge
            default: return .put
            }
        }
        switch headers[markerReasonHeader] {
        case "MaxAge", "Purge": return .purge
        case "Remove": return .delete
        default: return .put
        }
    }

    /// The key of `subject` in `bucket`, or nil when the subject is not under `$KV.<bucket>.`.
    static func key(fromSubject subject: String, bucket: String) -> String? {
        let prefix = KeyValueNames.subjectPrefix(bucket)
        guard subject.utf8.count > prefix.utf8.count, subject.utf8.starts(with: prefix.utf8) else { return nil }
        return String(Substring(subject.utf8.dropFirst(prefix.utf8.count)))
    }

    /// An entry from a message read by sequence or subject.
    static func decode(_ stored: JetStreamStoredMessage, bucket: String) throws(KeyValueError) -> KeyValueEntry {
        guard let key = key(fromSubject: stored.subject, bucket: bucket) else {
            throw KeyValueError(.invalidEntry, "message \(stored.sequence) of bucket '\(bucket)' is on subject '\(stored.subject)', outside '\(KeyValueNames.subjectPrefix(bucket))>'; the stream is not a key-value bucket",
                                bucket: bucket)
        }
        return KeyValueEntry(bucket: bucket, key: key, value: stored.payload, revision: stored.sequence,
                             created: RFC3339.parse(stored.time) ?? Date(timeIntervalSince1970: 0), delta: 0,
                             operation: operation(from: stored.headers))
    }

    /// An entry from a message delivered by a consumer; nil when it is not one of `bucket`'s.
    static func decode(subject: String, headers: NATSHeaders?, payload: [UInt8], metadata: JetStreamMessageMetadata, bucket: String) -> KeyValueEntry? {
        guard let key = key(fromSubject: subject, bucket: bucket) else { return nil }
        let seconds = Double(metadata.timestampNanoseconds / 1_000_000_000) + Double(metadata.timestampNanoseconds % 1_000_000_000) / 1e9
        return KeyValueEntry(bucket: bucket, key: key, value: payload, revision: metadata.streamSequence,
                             created: Date(timeIntervalSince1970: seconds), delta: metadata.pending,
                             operation: operation(from: headers))
    }
}

/// A parser for the RFC 3339 times the server sends (`2024-01-02T03:04:05.123456789Z`, or with
/// an offset), keeping nanosecond digits that Foundation's ISO 8601 parser rejects.
enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2), expect("Tt "),
              let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            if index == start { return nil }
        }
        var offsetSeconds = 0
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            index += 1
        } else {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard expect("+-"), let offsetHours = number(2), expect(":"), let offsetMinutes = number(2) else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard index == bytes.count else { return nil }
        // Days from the civil date (proleptic Gregorian), after Howard Hinnant's algorithm.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
