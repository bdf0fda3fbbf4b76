import TributaryKafka
import TributaryKafkaProtocol

/// A consumed record as `kafka-cat -C` prints it.
public struct KafkaCatRecord: Sendable {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The offset.
    public var offset: Int64
    /// Milliseconds since the epoch.
    public var timestamp: Int64
    /// True for a broker append time, false for the producer's create time.
    public var isLogAppendTime: Bool
    /// The key, nil when null.
    public var key: [UInt8]?
    /// The value, nil when null.
    public var value: [UInt8]?
    /// Headers in order (name, value or nil).
    public var headers: [(name: String, value: [UInt8]?)]
    /// The id of the partition's leader the record was read from, -1 when unknown.
    public var broker: Int32 = -1

    /// Creates a record.
    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64, isLogAppendTime: Bool = false,
                key: [UInt8]?, value: [UInt8]?, headers: [(name: String, value: [UInt8]?)] = []) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.isLogAppendTime = isLogAppendTime
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// The record as the consumer delivered it.
    public init(_ record: KafkaConsumerRecord, broker: Int32 = -1) {
        self.init(topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp,
                  isLogAppendTime: record.timestampType == .logAppendTime, key: record.key, value: record.value,
                  headers: record.headers.map { (name: $0.key, value: $0.value) })
        self.broker = broker
    }
}
