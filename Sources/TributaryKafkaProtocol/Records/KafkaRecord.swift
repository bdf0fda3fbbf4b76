/// One Kafka record: an offset, a timestamp, an optional key and value, and headers.
///
/// Decoded records carry absolute offsets and timestamps (the batch's base values plus the
/// record's deltas; for `LogAppendTime` batches every record gets the batch's max timestamp).
/// When encoding, the offsets of the records in one batch must increase; producers usually give
/// 0, 1, 2, … and let the broker assign the real offsets.
public struct KafkaRecord: Sendable, Equatable, CustomStringConvertible {
    /// One record header. Keys are strings; values may be null.
    public typealias Header = (key: String, value: [UInt8]?)

    /// The record's offset in its partition (absolute when decoded).
    public var offset: Int64
    /// Milliseconds since the Unix epoch (absolute when decoded; -1 for legacy v0 messages).
    public var timestamp: Int64
    /// The key, or nil for a null key (wire length -1).
    public var key: [UInt8]?
    /// The value, or nil for a null value (a tombstone on compacted topics).
    public var value: [UInt8]?
    /// The headers in wire order; keys may repeat.
    public var headers: [Header]

    /// Creates a record.
    public init(offset: Int64 = 0, timestamp: Int64, key: [UInt8]? = nil, value: [UInt8]?, headers: [Header] = []) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// Whether both records have the same offset, timestamp, key, value and headers.
    public static func == (lhs: KafkaRecord, rhs: KafkaRecord) -> Bool {
        guard lhs.offset == rhs.offset, lhs.timestamp == rhs.timestamp, lhs.key == rhs.key, lhs.value == rhs.value,
              lhs.headers.count == rhs.headers.count
        else { return false }
        for (left, right) in zip(lhs.headers, rhs.headers) where left.key != right.key || left.value != right.value {
            return false
        }
        return true
    }

    /// The offset, timestamp and sizes; never the payload.
    public var description: String {
        "KafkaRecord(offset: \(offset), timestamp: \(timestamp), key: \(key.map { "\($0.count) bytes" } ?? "null"), value: \(value.map { "\($0.count) bytes" } ?? "null"), headers: \(headers.count))"
    }
}
