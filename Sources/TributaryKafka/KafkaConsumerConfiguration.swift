/// What to do when a partition's position is not in the log (out of range, or no committed
/// offset), like Kafka's `auto.offset.reset`.
public enum KafkaOffsetResetPolicy: String, Sendable, Hashable {
    /// Move to the first offset in the log.
    case earliest
    /// Move to the log end: only records produced from now on.
    case latest
    /// Fail: the record sequence throws ``KafkaError/Code-swift.struct/offsetOutOfRange``.
    case none
}

/// Which records a consumer sees from transactional producers, like `isolation.level`.
public enum KafkaIsolationLevel: Int8, Sendable, Hashable {
    /// Everything written, aborted transactions included.
    case readUncommitted = 0
    /// Only committed transactions; records of aborted transactions are dropped.
    case readCommitted = 1
}

/// Consumer settings. `init()` gives a working setup; names follow the Java client's.
public struct KafkaConsumerConfiguration: Sendable {
    /// Default `fetch.min.bytes`: 1.
    public static let defaultFetchMinBytes = 1
    /// Default `fetch.max.bytes`: 50 MiB.
    public static let defaultFetchMaxBytes = 50 * 1024 * 1024
    /// Default `max.partition.fetch.bytes`: 1 MiB.
    public static let defaultMaxPartitionFetchBytes = 1024 * 1024
    /// Default `fetch.max.wait.ms`: 500 ms.
    public static let defaultFetchMaxWait: Duration = .milliseconds(500)
    /// Default buffer of fetched, not yet consumed records: 64 MiB.
    public static let defaultMaxBufferedBytes = 64 * 1024 * 1024

    /// The least data a fetch waits for, like `fetch.min.bytes`. Default 1.
    public var fetchMinBytes: Int = KafkaConsumerConfiguration.defaultFetchMinBytes
    /// The most data one fetch returns, like `fetch.max.bytes`. Default 50 MiB. A request asks
    /// for at most the sum of its partitions' ``maxPartitionFetchBytes``, so a broker that
    /// ignores the per-partition limit still returns no more than that.
    public var fetchMaxBytes: Int = KafkaConsumerConfiguration.defaultFetchMaxBytes
    /// The most data one fetch returns per partition, like `max.partition.fetch.bytes`
    /// (a larger first batch is still returned whole). Default 1 MiB.
    public var maxPartitionFetchBytes: Int = KafkaConsumerConfiguration.defaultMaxPartitionFetchBytes
    /// How long the broker holds a fetch waiting for `fetchMinBytes`, like `fetch.max.wait.ms`.
    /// Default 500 ms.
    public var fetchMaxWait: Duration = KafkaConsumerConfiguration.defaultFetchMaxWait
    /// What to do when a position is out of range, like `auto.offset.reset`. Default `.latest`.
    public var autoOffsetReset: KafkaOffsetResetPolicy = .latest
    /// Like `isolation.level`. Default `.readUncommitted`.
    public var isolationLevel: KafkaIsolationLevel = .readUncommitted
    /// Bytes of fetched records held for the reader, like librdkafka's
    /// `queued.max.messages.kbytes`; fetching pauses above it. Default 64 MiB.
    ///
    /// A record counts its key, value and headers plus a fixed cost for the record and each heap
    /// block it owns (about 130 bytes for a record with a one-byte value), so a compressed batch
    /// of millions of tiny records is bounded by what it costs in memory. Decoding hands records
    /// over in parts and waits while the buffer is full. One batch may also decompress to at
    /// most this many bytes; a larger one is a `corruptRecords` error that names this setting.
    public var maxBufferedBytes: Int = KafkaConsumerConfiguration.defaultMaxBufferedBytes
    /// Whether record batch CRCs are checked, like `check.crcs`. Default true.
    public var checkCRCs = true

    /// A configuration with every default.
    public init() {}

    func validate() throws(KafkaError) {
        guard fetchMinBytes >= 0 else { throw KafkaError(.invalidConfiguration, "fetchMinBytes must not be negative") }
        guard fetchMaxBytes >= 1024 else { throw KafkaError(.invalidConfiguration, "fetchMaxBytes must be at least 1024") }
        guard maxPartitionFetchBytes >= 1 else { throw KafkaError(.invalidConfiguration, "maxPartitionFetchBytes must be at least 1") }
        guard fetchMaxWait >= .zero else { throw KafkaError(.invalidConfiguration, "fetchMaxWait must not be negative") }
        guard maxBufferedBytes >= 1024 else { throw KafkaError(.invalidConfiguration, "maxBufferedBytes must be at least 1024") }
    }
}
